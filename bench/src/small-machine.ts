// Small-machine mode (root only): the prepared model on a loop-mounted ext4 image whose reads
// are throttled to Fly's documented shared-cpu-1x volume cap (16 MiB/s, 4000 IOPS), the
// service in a memory cgroup of 512 MB and of 2 GB, pinned to one core, page cache dropped.
// Reports spawn → first /v1/embeddings answer, the bytes read from the throttled volume (its
// blkio counters), the cgroup's peak and whether anything was OOM-killed. ortos-embed runs
// both the int8 and the q4 prepared forms; Node.js itself stays on the root disk here (the
// image-store benchmark puts it on a throttled device too).
//
// The loop device keeps the kernel's readahead unless --read-ahead-kb N is given; the value in
// force is reported, since a page fault on memory-mapped weights reads that much around it.
//
//   node build/bench/src/small-machine.js [--no-peers] [--read-ahead-kb N]

import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveModelDir } from '../../src/model/layout.js';
import { defaultPreparedDir, prepareModel } from '../../src/prepare/prepare.js';
import { preparedFixture } from '../../test/helpers/models.js';
import { CACHE_DIR, PROJECT_ROOT } from '../../test/helpers/fixtures.js';
import { BIN } from '../../test/helpers/serve-process.js';
import { machineInfo, writeResult } from './machine.js';
import { LoopDisk, Sandbox, unavailable } from './throttled-disk.js';
import { post, tryConnect } from './wake.js';

const PORT = 18191;
const MiB = 2 ** 20;

async function main(): Promise<void> {
  const why = unavailable();
  if (why) {
    console.log(`small-machine mode: skipped (${why})`);
    return;
  }
  const { modelDir, preparedDir } = await preparedFixture('e5-base', 'int8');
  const q4Dir = (await prepareModel(resolveModelDir(modelDir, 'q4'), defaultPreparedDir(modelDir, 'q4'), {}, (m) => console.log(m))).dir;
  const withPeers = !process.argv.includes('--no-peers');
  const raArg = process.argv.indexOf('--read-ahead-kb');
  const work = mkdtempSync(join(tmpdir(), 'ortos-small-'));
  const volume = LoopDisk.create(work, 'volume', 1400);
  const results: Array<Record<string, unknown>> = [];
  let readAheadKb = 0;
  try {
    execFileSync('cp', ['-r', preparedDir, join(volume.mnt, 'e5')]);
    execFileSync('cp', ['-r', q4Dir, join(volume.mnt, 'e5-q4')]);
    // The peers' model folders (made by `npm run bench`), copied whole: links resolved.
    const peers = [['transformers.js q8', 'transformers', 'transformers-e5-base'], ['fastembed', 'fastembed', 'fastembed-e5-base']]
      .filter(([, , dir]) => withPeers && existsSync(join(CACHE_DIR, 'peers', dir)));
    for (const [, , dir] of peers) execFileSync('cp', ['-rL', join(CACHE_DIR, 'peers', dir), join(volume.mnt, dir)]);
    if (withPeers && peers.length < 2) console.log('peers: run `npm run bench` once to make their model folders; measuring ortos-embed only');
    readAheadKb = volume.readAhead(raArg > 0 ? Number(process.argv[raArg + 1]) : undefined);
    console.log(`volume readahead: ${readAheadKb} KiB`);
    const runIn = async (memMB: number, label: string, argv: string[], env: NodeJS.ProcessEnv, done: () => Promise<boolean>): Promise<void> => {
      const box = Sandbox.create([{ disk: volume, bytesPerSecond: 16 * MiB, iops: 4000 }], memMB);
      try {
        const r = await box.run(process.execPath, argv, env, done);
        const peer = r.stdout.startsWith('{"texts"') ? (JSON.parse(r.stdout) as { wake: { firstEmbeddingMs: number; readMiB: number } }).wake : null;
        const row = {
          implementation: label,
          memoryLimitMB: memMB,
          answered: r.ok,
          firstAnswerMs: Math.round(peer?.firstEmbeddingMs ?? r.ms),
          // Counted until the process ended (a peer exits after its answer; serve is stopped then).
          fromVolumeMiB: Math.round(box.bytesRead(volume) / MiB),
          cgroupPeakMB: Math.round(box.peakMB),
          oomKilled: box.oomKilled,
        };
        results.push(row);
        console.log(JSON.stringify(row));
      } finally {
        box.destroy();
      }
    };
    for (const memMB of [512, 2048]) {
      for (const [label, dir] of [['ortos-embed serve, int8', 'e5'], ['ortos-embed serve, q4', 'e5-q4']]) {
        await runIn(memMB, label, [BIN, 'serve', '--prepared-dir', join(volume.mnt, dir), '--host', '127.0.0.1', '--port', String(PORT), '--threads', '1', '--load-timeout', '120s'],
          { HF_HUB_OFFLINE: '1' },
          async () => {
            while (!(await tryConnect(PORT))) await new Promise((r) => setTimeout(r, 2));
            return (await post(PORT, JSON.stringify({ input: 'query: как разбудить сервис быстрее?' }))) === 200;
          });
      }
      for (const [label, impl, dir] of peers) {
        // A peer prints its wake figures and exits; its process start is the clock's zero.
        await runIn(memMB, `${label} (in-process)`, [join(PROJECT_ROOT, 'build', 'bench', 'src', 'peer-child.js'), impl, join(volume.mnt, dir), join(CACHE_DIR, 'bench-passages.json'), '1', 'wake'], {},
          () => new Promise<boolean>(() => {}));
      }
    }
  } finally {
    volume.destroy();
    rmSync(work, { recursive: true, force: true });
  }
  const machine = machineInfo();
  console.log(`volume readahead ${readAheadKb} KiB`);
  console.log('| model on a 16 MiB/s, 4000 IOPS volume | memory limit | first answer | from the volume | cgroup peak | OOM kill |');
  console.log('|---|---|---|---|---|---|');
  for (const r of results) console.log(`| ${r.implementation} | ${r.memoryLimitMB} MB | ${r.answered ? `${r.firstAnswerMs} ms` : 'none'} | ${r.fromVolumeMiB} MiB | ${r.cgroupPeakMB} MB | ${r.oomKilled ? 'yes' : 'no'} |`);
  console.log(`written ${writeResult(`small-machine${withPeers ? '' : '-ortos'}${raArg > 0 ? `-ra${readAheadKb}` : ''}`, machine, { machine, note: 'model on a loop ext4 image throttled to 16 MiB/s and 4000 IOPS; node and node_modules on the root disk', readAheadKb, results })}`);
}

await main();
