// Cold boot on Fly's disk caps, both stores (root only). Fly documents (volumes/overview) the
// root filesystem of every Machine at 2000 IOPS and 8 MiB/s and a shared-cpu-1x volume at
// 4000 IOPS and 16 MiB/s; no burst at boot is documented. Emulated here with ext4 images on
// loop devices throttled by cgroup v1 blkio, one core, a 512 MB memory cgroup, the page cache
// dropped:
//   image store:  the Node.js binary, the app, its node_modules and the prepared model all on
//                 one "rootfs" device at 8 MiB/s;
//   volume store: Node.js, the app and node_modules on the rootfs device at 8 MiB/s, the model
//                 on a "volume" device at 16 MiB/s.
// Reports spawn → first /v1/embeddings answer and the bytes read from each device, for int8
// and q4; the peers (transformers.js, fastembed) where their folders exist (made by
// `npm run bench`), from the image store, in 2 GB (they are OOM-killed in 512 MB).
// Shared libraries (libc, libstdc++) stay on the host's disk: a real rootfs holds them too.
//
//   node build/bench/src/image-store.js [--read-ahead-kb N]   (default 128, a VM disk's usual)

import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveModelDir } from '../../src/model/layout.js';
import { defaultPreparedDir, prepareModel } from '../../src/prepare/prepare.js';
import { CACHE_DIR, PROJECT_ROOT } from '../../test/helpers/fixtures.js';
import { preparedFixture } from '../../test/helpers/models.js';
import { machineInfo, writeResult } from './machine.js';
import { LoopDisk, Sandbox, unavailable } from './throttled-disk.js';
import { post, tryConnect } from './wake.js';

const PORT = 18192;
const MiB = 2 ** 20;
const ROOTFS = { bytesPerSecond: 8 * MiB, iops: 2000 };
const VOLUME = { bytesPerSecond: 16 * MiB, iops: 4000 };

function du(path: string): number {
  return Number(execFileSync('du', ['-sbL', path], { encoding: 'utf8' }).split('\t')[0]) / MiB;
}

/** The production node_modules: what `npm prune --omit=dev` would keep. */
function productionModules(): string[] {
  const out = execFileSync('npm', ['ls', '--omit=dev', '--all', '--parseable'], { cwd: PROJECT_ROOT, encoding: 'utf8' });
  return out.split('\n').filter((p) => p.includes('/node_modules/')).map((p) => p.slice(PROJECT_ROOT.length + 1));
}

async function main(): Promise<void> {
  const why = unavailable();
  if (why) {
    console.log(`image-store mode: skipped (${why})`);
    return;
  }
  const raArg = process.argv.indexOf('--read-ahead-kb');
  const readAheadKb = raArg > 0 ? Number(process.argv[raArg + 1]) : 128;
  const { modelDir, preparedDir } = await preparedFixture('e5-base', 'int8');
  const q4Dir = (await prepareModel(resolveModelDir(modelDir, 'q4'), defaultPreparedDir(modelDir, 'q4'), {}, (m) => console.log(m))).dir;
  const peers = [['transformers.js q8', 'transformers', 'transformers-e5-base'], ['fastembed', 'fastembed', 'fastembed-e5-base']]
    .filter(([, , dir]) => existsSync(join(CACHE_DIR, 'peers', dir)) && existsSync(join(PROJECT_ROOT, 'bench', 'peers', 'node_modules')));
  if (peers.length < 2) console.log('peers: run `npm run bench` once to make their model folders; measuring ortos-embed only');

  const work = mkdtempSync(join(tmpdir(), 'ortos-image-'));
  const modules = productionModules();
  const models: Record<string, string> = { int8: preparedDir, q4: q4Dir };
  const size = (mb: number): number => Math.ceil(mb * 1.3 + 200);
  const rootfsMB = size(du(process.execPath) + du(join(PROJECT_ROOT, 'dist')) + du(join(PROJECT_ROOT, 'build')) + Object.values(models).reduce((a, d) => a + du(d), 0)
    + modules.reduce((a, m) => a + du(join(PROJECT_ROOT, m)), 0) + (peers.length ? du(join(PROJECT_ROOT, 'bench', 'peers', 'node_modules')) + peers.reduce((a, [, , d]) => a + du(join(CACHE_DIR, 'peers', d)), 0) : 0));
  const rootfs = LoopDisk.create(work, 'rootfs', rootfsMB);
  const volume = LoopDisk.create(work, 'volume', size(Object.values(models).reduce((a, d) => a + du(d), 0)));
  const results: Array<Record<string, unknown>> = [];
  try {
    rootfs.readAhead(readAheadKb);
    volume.readAhead(readAheadKb);
    // The image's layout: /usr/local/bin/node, /app (package.json, dist, node_modules), /models.
    const node = join(rootfs.mnt, 'node');
    const app = join(rootfs.mnt, 'app');
    execFileSync('cp', [process.execPath, node]);
    mkdirSync(join(app, 'node_modules'), { recursive: true });
    cpSync(join(PROJECT_ROOT, 'package.json'), join(app, 'package.json'));
    cpSync(join(PROJECT_ROOT, 'dist'), join(app, 'dist'), { recursive: true });
    // The peers' child script (compiled benchmark code, not part of the image).
    if (peers.length) cpSync(join(PROJECT_ROOT, 'build'), join(app, 'build'), { recursive: true });
    for (const m of modules) cpSync(join(PROJECT_ROOT, m), join(app, m), { recursive: true, dereference: true });
    for (const [name, dir] of Object.entries(models)) {
      cpSync(dir, join(rootfs.mnt, 'models', name), { recursive: true });
      cpSync(dir, join(volume.mnt, name), { recursive: true });
    }
    if (peers.length) {
      cpSync(join(PROJECT_ROOT, 'bench', 'peers'), join(app, 'bench', 'peers'), { recursive: true, dereference: true });
      for (const [, , dir] of peers) execFileSync('cp', ['-rL', join(CACHE_DIR, 'peers', dir), join(rootfs.mnt, 'models', dir)]);
      cpSync(join(CACHE_DIR, 'bench-passages.json'), join(rootfs.mnt, 'passages.json'));
    }
    execFileSync('sync');

    const serve = (preparedAt: string): string[] => [join(app, 'dist', 'bin', 'main.js'), 'serve', '--prepared-dir', preparedAt, '--host', '127.0.0.1', '--port', String(PORT), '--threads', '1', '--load-timeout', '300s'];
    const firstAnswer = async (): Promise<boolean> => {
      while (!(await tryConnect(PORT))) await new Promise((r) => setTimeout(r, 2));
      return (await post(PORT, JSON.stringify({ input: 'query: как разбудить сервис быстрее?' }))) === 200;
    };
    const record = (store: string, label: string, memoryMB: number, box: Sandbox, r: { ms: number; ok: boolean; stdout: string }, disks: LoopDisk[]): void => {
      const peer = r.stdout.startsWith('{"texts"') ? (JSON.parse(r.stdout) as { wake: { firstEmbeddingMs: number } }).wake : null;
      const row = {
        store,
        implementation: label,
        memoryLimitMB: memoryMB,
        answered: r.ok,
        firstAnswerMs: Math.round(peer?.firstEmbeddingMs ?? r.ms),
        rootfsMiB: Math.round(box.bytesRead(rootfs) / MiB),
        volumeMiB: disks.includes(volume) ? Math.round(box.bytesRead(volume) / MiB) : null,
        cgroupPeakMB: Math.round(box.peakMB),
        oomKilled: box.oomKilled,
      };
      results.push(row);
      console.log(JSON.stringify(row));
    };
    // The floor every Node.js service pays on this rootfs before any model byte.
    for (const [label, code] of [['node -e 0', '0'], ['node, importing onnxruntime-node', `import(${JSON.stringify(join(app, 'node_modules', 'onnxruntime-node', 'dist', 'index.js'))}).then(() => console.log('{}'))`]]) {
      const box = Sandbox.create([{ disk: rootfs, ...ROOTFS }], 512);
      try {
        const r = await box.run(node, ['-e', code === '0' ? "console.log('{}')" : code], {}, () => new Promise<boolean>(() => {}));
        record('image', label, 512, box, r, [rootfs]);
      } finally {
        box.destroy();
      }
    }
    for (const dtype of ['int8', 'q4']) {
      for (const store of ['image', 'volume'] as const) {
        const disks = store === 'image' ? [rootfs] : [rootfs, volume];
        const box = Sandbox.create([{ disk: rootfs, ...ROOTFS }, ...(store === 'volume' ? [{ disk: volume, ...VOLUME }] : [])], 512);
        try {
          const r = await box.run(node, serve(store === 'image' ? join(rootfs.mnt, 'models', dtype) : join(volume.mnt, dtype)), { HF_HUB_OFFLINE: '1' }, firstAnswer);
          record(store, `ortos-embed serve, ${dtype}`, 512, box, r, disks);
        } finally {
          box.destroy();
        }
      }
    }
    for (const [label, impl, dir] of peers) {
      const box = Sandbox.create([{ disk: rootfs, ...ROOTFS }], 2048);
      try {
        // A peer prints its wake figures and exits; its process start is the clock's zero.
        const r = await box.run(node, [join(app, 'build', 'bench', 'src', 'peer-child.js'), impl, join(rootfs.mnt, 'models', dir), join(rootfs.mnt, 'passages.json'), '1', 'wake'], {}, () => new Promise<boolean>(() => {}));
        record('image', `${label} (in-process)`, 2048, box, r, [rootfs]);
      } finally {
        box.destroy();
      }
    }
  } finally {
    rootfs.destroy();
    volume.destroy();
    rmSync(work, { recursive: true, force: true });
  }
  const machine = machineInfo();
  console.log(`\nrootfs ${ROOTFS.bytesPerSecond / MiB} MiB/s, ${ROOTFS.iops} IOPS; volume ${VOLUME.bytesPerSecond / MiB} MiB/s, ${VOLUME.iops} IOPS; readahead ${readAheadKb} KiB; one core; page cache dropped`);
  console.log('| store | implementation | memory limit | first answer | from the rootfs | from the volume | cgroup peak | OOM kill |');
  console.log('|---|---|---|---|---|---|---|---|');
  for (const r of results) {
    console.log(`| ${r.store} | ${r.implementation} | ${r.memoryLimitMB} MB | ${r.answered ? `${(Number(r.firstAnswerMs) / 1000).toFixed(1)} s` : 'none'} | ${r.rootfsMiB} MiB | ${r.volumeMiB ?? '—'}${r.volumeMiB === null ? '' : ' MiB'} | ${r.cgroupPeakMB} MB | ${r.oomKilled ? 'yes' : 'no'} |`);
  }
  console.log(`written ${writeResult(`image-store-ra${readAheadKb}`, machine, { machine, note: 'rootfs (node, app, node_modules, and for the image store the model) on a loop ext4 image at 8 MiB/s and 2000 IOPS; the volume store\'s model on another at 16 MiB/s and 4000 IOPS; 512 MB memory cgroup for ortos-embed, 2 GB for the peers', readAheadKb, results })}`);
}

await main();
