// Small-machine mode (root only): the prepared model on a loop-mounted ext4 image whose reads
// are throttled with the cgroup v1 blkio controller to Fly's documented shared-cpu-1x volume
// cap (16 MiB/s, 4000 IOPS), the service in a memory cgroup of 512 MB and of 2 GB, pinned to
// one core, page cache dropped. Reports spawn → first /v1/embeddings answer, bytes read, and
// whether anything was OOM-killed. Bytes are counted twice: all the process read
// (/proc/PID/io, the node binary and libraries included) and what came from the throttled
// volume alone (the blkio counters of the loop device). ortos-embed runs both the int8 and
// the q4 prepared forms. Prints why a mode was skipped rather than faking it.
//
// The loop device keeps the kernel's readahead unless --read-ahead-kb N is given; the value in
// force is reported, since every page fault on the mapped weights reads that much around it.
//
//   node dist/bench/small-machine.js [--no-peers] [--read-ahead-kb N]

import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveModelDir } from '../model/layout.js';
import { defaultPreparedDir, prepareModel } from '../prepare/prepare.js';
import { preparedFixture } from '../testing/models.js';
import { CACHE_DIR, PROJECT_ROOT } from '../testing/fixtures.js';
import { BIN } from '../testing/serve-process.js';
import { dropCaches, machineInfo, writeResult } from './machine.js';
import { post, tryConnect } from './wake.js';

const BLKIO = '/sys/fs/cgroup/blkio';
const MEMORY = '/sys/fs/cgroup/memory';
const PORT = 18191;

function sh(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8' }).trim();
}

/** Bytes the cgroup has read from one device, from blkio's counters. */
function volumeRead(group: string, devNo: string): number {
  const line = readFileSync(join(group, 'blkio.throttle.io_service_bytes'), 'utf8').split('\n').find((l) => l.startsWith(`${devNo} Read `));
  return line ? Number(line.split(' ')[2]) : 0;
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) {
    console.log('small-machine mode: skipped (needs root for loop devices and cgroups)');
    return;
  }
  if (!existsSync(join(BLKIO, 'blkio.throttle.read_bps_device')) || !existsSync(join(MEMORY, 'memory.limit_in_bytes'))) {
    console.log('small-machine mode: skipped (cgroup v1 blkio and memory controllers not available)');
    return;
  }
  const { modelDir, preparedDir } = await preparedFixture('e5-base', 'int8');
  const q4Dir = (await prepareModel(resolveModelDir(modelDir, 'q4'), defaultPreparedDir(modelDir, 'q4'), {}, (m) => console.log(m))).dir;
  const withPeers = !process.argv.includes('--no-peers');
  let readAheadKb = 0;
  const raArg = process.argv.indexOf('--read-ahead-kb');
  const work = mkdtempSync(join(tmpdir(), 'ortos-small-'));
  const img = join(work, 'volume.img');
  const mnt = join(work, 'mnt');
  mkdirSync(mnt);
  sh('truncate', ['-s', '1400M', img]);
  sh('mkfs.ext4', ['-q', '-F', img]);
  const loop = sh('losetup', ['--find', '--show', img]);
  const groups: string[] = [];
  const results: Array<Record<string, unknown>> = [];
  try {
    sh('mount', [loop, mnt]);
    execFileSync('cp', ['-r', preparedDir, join(mnt, 'e5')]);
    execFileSync('cp', ['-r', q4Dir, join(mnt, 'e5-q4')]);
    // The peers' model folders (made by `npm run bench`), copied whole: links resolved.
    const peers = [['transformers.js q8', 'transformers', 'transformers-e5-base'], ['fastembed', 'fastembed', 'fastembed-e5-base']]
      .filter(([, , dir]) => withPeers && existsSync(join(CACHE_DIR, 'peers', dir)));
    for (const [, , dir] of peers) execFileSync('cp', ['-rL', join(CACHE_DIR, 'peers', dir), join(mnt, dir)]);
    if (withPeers && peers.length < 2) console.log('peers: run `npm run bench` once to make their model folders; measuring ortos-embed only');
    const devNo = readFileSync(`/sys/block/${loop.replace('/dev/', '')}/dev`, 'utf8').trim();
    const raFile = `/sys/block/${loop.replace('/dev/', '')}/queue/read_ahead_kb`;

    if (raArg > 0) writeFileSync(raFile, process.argv[raArg + 1]);
    readAheadKb = Number(readFileSync(raFile, 'utf8').trim());
    console.log(`volume readahead: ${readAheadKb} KiB`);
    const blk = join(BLKIO, `ortos-bench-${process.pid}`);
    mkdirSync(blk);
    groups.push(blk);
    writeFileSync(join(blk, 'blkio.throttle.read_bps_device'), `${devNo} ${16 * 2 ** 20}`);
    writeFileSync(join(blk, 'blkio.throttle.read_iops_device'), `${devNo} 4000`);
    const runIn = async (memMB: number, label: string, argv: string[], env: NodeJS.ProcessEnv, probe: () => Promise<number>): Promise<void> => {
      const mem = join(MEMORY, `ortos-bench-${process.pid}-${groups.length}`);
      mkdirSync(mem);
      groups.push(mem);
      writeFileSync(join(mem, 'memory.limit_in_bytes'), String(memMB * 2 ** 20));
      dropCaches();
      const volumeBefore = volumeRead(blk, devNo);
      const t0 = performance.now();
      const script = `echo $$ > ${blk}/cgroup.procs && echo $$ > ${mem}/cgroup.procs && exec taskset -c 0 "$0" "$@"`;
      const child = spawn('sh', ['-c', script, process.execPath, ...argv], { stdio: ['ignore', 'pipe', 'ignore'], env: { ...process.env, ...env } });
      let stdout = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
      let status = 0;
      let ms = 0;
      let readMiB = 0;
      let volumeAtAnswer = 0;
      try {
        status = await Promise.race([probe(), exited.then(() => -1)]);
        ms = performance.now() - t0;
        volumeAtAnswer = volumeRead(blk, devNo);
        try {
          readMiB = Number(/^read_bytes:\s+(\d+)/m.exec(readFileSync(`/proc/${child.pid}/io`, 'utf8'))?.[1] ?? 0) / 2 ** 20;
        } catch {
          readMiB = NaN;
        }
      } finally {
        child.kill('SIGTERM');
        await exited;
      }
      const oom = readFileSync(join(mem, 'memory.oom_control'), 'utf8');
      const peak = Number(readFileSync(join(mem, 'memory.max_usage_in_bytes'), 'utf8')) / 2 ** 20;
      const peerMs = stdout.startsWith('{"texts"') ? (JSON.parse(stdout) as { wake: { firstEmbeddingMs: number; readMiB: number } }).wake : null;
      const volumeMiB = ((peerMs === null ? volumeAtAnswer : volumeRead(blk, devNo)) - volumeBefore) / 2 ** 20;
      const row = {
        implementation: label,
        memoryLimitMB: memMB,
        answered: status === 200 || peerMs !== null,
        firstAnswerMs: Math.round(peerMs?.firstEmbeddingMs ?? ms),
        readMiB: Math.round(peerMs?.readMiB ?? readMiB),
        // Counted up to the first answer for ortos-embed; a peer process exits after it.
        fromVolumeMiB: Math.round(volumeMiB),
        cgroupPeakMB: Math.round(peak),
        oomKilled: /oom_kill [1-9]/.test(oom),
      };
      results.push(row);
      console.log(JSON.stringify(row));
    };
    for (const memMB of [512, 2048]) {
      for (const [label, dir] of [['ortos-embed serve, int8', 'e5'], ['ortos-embed serve, q4', 'e5-q4']]) {
        await runIn(memMB, label, [BIN, 'serve', '--prepared-dir', join(mnt, dir), '--host', '127.0.0.1', '--port', String(PORT), '--threads', '1', '--load-timeout', '120s'],
          { HF_HUB_OFFLINE: '1' },
          async () => {
            while (!(await tryConnect(PORT))) await new Promise((r) => setTimeout(r, 2));
            return post(PORT, JSON.stringify({ input: 'query: как разбудить сервис быстрее?' }));
          });
      }
      for (const [label, impl, dir] of peers) {
        // A peer prints its wake figures and exits; its process start is the clock's zero.
        await runIn(memMB, `${label} (in-process)`, [join(PROJECT_ROOT, 'dist', 'bench', 'peer-child.js'), impl, join(mnt, dir), join(CACHE_DIR, 'bench-passages.json'), '1', 'wake'], {},
          () => new Promise<number>(() => {}));
      }
    }
  } finally {
    try {
      sh('umount', [mnt]);
    } catch {
      // already gone
    }
    sh('losetup', ['-d', loop]);
    for (const g of groups.reverse()) rmdirSync(g);
    rmSync(work, { recursive: true, force: true });
  }
  const machine = machineInfo();
  console.log(`volume readahead ${readAheadKb} KiB`);
  console.log('| model on a 16 MiB/s, 4000 IOPS volume | memory limit | first answer | read in all | from the volume | cgroup peak | OOM kill |');
  console.log('|---|---|---|---|---|---|---|');
  for (const r of results) console.log(`| ${r.implementation} | ${r.memoryLimitMB} MB | ${r.answered ? `${r.firstAnswerMs} ms` : 'none'} | ${Number.isFinite(r.readMiB) ? `${r.readMiB} MiB` : '—'} | ${r.fromVolumeMiB} MiB | ${r.cgroupPeakMB} MB | ${r.oomKilled ? 'yes' : 'no'} |`);
  console.log(`written ${writeResult(`small-machine${withPeers ? '' : '-ortos'}${raArg > 0 ? `-ra${readAheadKb}` : ''}`, machine, { machine, note: 'model on a loop ext4 image throttled to 16 MiB/s and 4000 IOPS; node and node_modules on the root disk', readAheadKb, results })}`);
}

await main();
