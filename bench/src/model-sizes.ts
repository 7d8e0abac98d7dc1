// The multilingual-e5 sizes side by side, on fixtures with the real models' shapes (random
// weights): e5-small (BertModel, 384 × 12 layers), e5-base (XLM-R, 768 × 12) and, with
// --large, e5-large (1024 × 24; ~2.3 GB of memory to generate). For each, int8, one core:
// the prepared size, wake (cold and warm page cache), peak RSS after wake and after 640
// passages, one-query p50 and tokens/s at 32 texts per request over HTTP, and (root) the wake
// with the prepared model on a loop device throttled to Fly's volume cap (16 MiB/s, 4000 IOPS,
// 128 KiB readahead, Node.js on the unthrottled root disk). The peers' model folders exist for
// e5-base only (see run.ts): their figures are in the main benchmark.
//
//   node build/bench/src/model-sizes.js [--large]

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FixtureSize } from '../../test/fixture-models/generate.js';
import { PREPARED_FILES } from '../../src/model/manifest.js';
import { preparedFixture } from '../../test/helpers/models.js';
import { readTokenizerFile } from '../../src/tokenizer/binary-file.js';
import { Tokenizer } from '../../src/tokenizer/tokenizer.js';
import { multilingualPassages, multilingualSample } from '../../test/helpers/gettext.js';
import { BIN, spawnServe } from '../../test/helpers/serve-process.js';
import { hasTaskset, machineInfo, writeResult } from './machine.js';
import { hwm, median, ortosLoad, type LoadFigures } from './http-load.js';
import { LoopDisk, Sandbox, unavailable } from './throttled-disk.js';
import { post, tryConnect, wakeOnce, type WakeRun } from './wake.js';

const PIN = hasTaskset() ? ['taskset', '-c', '0'] : [];
const MiB = 2 ** 20;
const PORT = 18211;

function duMiB(dir: string): number {
  let bytes = 0;
  for (const name of readdirSync(dir, { recursive: true }) as string[]) {
    const st = statSync(join(dir, name));
    if (st.isFile()) bytes += st.size;
  }
  return bytes / MiB;
}

interface VolumeWake {
  firstAnswerMs: number;
  fromVolumeMiB: number;
  cgroupPeakMB: number;
  readAheadKb: number;
}

async function volumeWake(preparedDir: string, memMB: number): Promise<VolumeWake | string> {
  const why = unavailable();
  if (why) return why;
  const work = mkdtempSync(join(tmpdir(), 'ortos-sizes-'));
  const volume = LoopDisk.create(work, 'volume', Math.ceil(duMiB(preparedDir) * 1.3) + 64);
  try {
    execFileSync('cp', ['-r', preparedDir, join(volume.mnt, 'model')]);
    const readAheadKb = volume.readAhead(128);
    const box = Sandbox.create([{ disk: volume, bytesPerSecond: 16 * MiB, iops: 4000 }], memMB);
    try {
      const r = await box.run(process.execPath, [BIN, 'serve', '--prepared-dir', join(volume.mnt, 'model'), '--host', '127.0.0.1', '--port', String(PORT), '--threads', '1', '--load-timeout', '120s'],
        { HF_HUB_OFFLINE: '1' },
        async () => {
          while (!(await tryConnect(PORT))) await new Promise((res) => setTimeout(res, 2));
          return (await post(PORT, JSON.stringify({ input: 'query: как разбудить сервис быстрее?' }))) === 200;
        });
      if (!r.ok) return 'no answer';
      return { firstAnswerMs: Math.round(r.ms), fromVolumeMiB: Math.round(box.bytesRead(volume) / MiB), cgroupPeakMB: Math.round(box.peakMB), readAheadKb };
    } finally {
      box.destroy();
    }
  } finally {
    volume.destroy();
    rmSync(work, { recursive: true, force: true });
  }
}

interface SizeResult {
  size: FixtureSize;
  preparedMiB: number;
  wakeCold: WakeRun[];
  wakeWarm: WakeRun[];
  rss: { afterWake: number; afterPassages640: number };
  single: LoadFigures;
  per32: LoadFigures & { tokensPerSec: number };
  volume: VolumeWake | string;
}

async function measure(size: FixtureSize): Promise<SizeResult> {
  console.log(`${size}: preparing …`);
  const { modelDir, preparedDir } = await preparedFixture(size, 'int8');
  const texts = multilingualSample(256, 5).map((s) => `passage: ${s}`);
  const tok = new Tokenizer(readTokenizerFile(join(preparedDir, PREPARED_FILES.tokenizer)).data);
  const tokens = texts.reduce((a, t) => a + tok.encode(t, { maxLength: 512 }).ids.length, 0);
  console.log(`${size}: wake …`);
  await wakeOnce(modelDir, PORT, false);
  const wakeCold: WakeRun[] = [];
  const wakeWarm: WakeRun[] = [];
  for (let i = 0; i < 3; i++) wakeCold.push(await wakeOnce(modelDir, PORT, true));
  for (let i = 0; i < 3; i++) wakeWarm.push(await wakeOnce(modelDir, PORT, false));
  console.log(`${size}: throughput and memory …`);
  const s = await spawnServe(['--model-dir', modelDir, '--threads', '1', '--max-queue-wait', '600s', '--cache-memory-mb', '0'], {}, PIN);
  await s.waitFor('model ready', 600_000);
  await (await fetch(`${s.url}/v1/embeddings`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"input":"query: привет"}' })).arrayBuffer();
  const pid = s.child.pid as number;
  const afterWake = hwm(pid);
  const single = await ortosLoad(s.url, texts.slice(0, 64), 1, 1);
  const per32 = await ortosLoad(s.url, texts, 32, 1);
  await ortosLoad(s.url, multilingualPassages(640, 50, 2000, 7).map((t) => `passage: ${t}`), 32, 1);
  const afterPassages640 = hwm(pid);
  s.child.kill('SIGTERM');
  await s.exited;
  console.log(`${size}: wake from a 16 MiB/s volume …`);
  const volume = await volumeWake(preparedDir, size === 'e5-large' ? 2048 : 512);
  return {
    size, preparedMiB: Math.round(duMiB(preparedDir)), wakeCold, wakeWarm, rss: { afterWake, afterPassages640 }, single,
    per32: { ...per32, tokensPerSec: per32.textsPerSec * (tokens / texts.length) }, volume,
  };
}

async function main(): Promise<void> {
  const sizes: FixtureSize[] = ['e5-small', 'e5-base', ...(process.argv.includes('--large') ? ['e5-large' as const] : [])];
  const results: SizeResult[] = [];
  for (const size of sizes) results.push(await measure(size));
  const machine = machineInfo();
  console.log(`\n${machine.cpu}, ${machine.flags.join(' ')}; one core; int8; random weights with the real shapes`);
  console.log('| model shape | prepared | wake, cold | wake, warm | read, cold | RSS after wake / 640 passages | one query p50 | tokens/s, 32 per call | wake, model on a 16 MiB/s volume |');
  console.log('|---|---|---|---|---|---|---|---|---|');
  for (const r of results) {
    const v = typeof r.volume === 'string' ? `n/a (${r.volume})` : `${(r.volume.firstAnswerMs / 1000).toFixed(1)} s (${r.volume.fromVolumeMiB} MiB)`;
    console.log(`| ${r.size} | ${r.preparedMiB} MiB | ${median(r.wakeCold.map((w) => w.firstResponseMs)).toFixed(0)} ms | ${median(r.wakeWarm.map((w) => w.firstResponseMs)).toFixed(0)} ms | ` +
      `${median(r.wakeCold.map((w) => w.readMiB ?? NaN)).toFixed(0)} MiB | ${r.rss.afterWake.toFixed(0)} / ${r.rss.afterPassages640.toFixed(0)} MB | ${r.single.p50.toFixed(1)} ms | ${r.per32.tokensPerSec.toFixed(0)} | ${v} |`);
  }
  console.log(`written ${writeResult('model-sizes', machine, { machine, pinned: PIN.length > 0, note: 'fixtures with the real shapes and random weights; int8; volume: 16 MiB/s, 4000 IOPS, readahead 128 KiB, 512 MB cgroup (2 GB for large), Node.js on the root disk', results })}`);
}

await main();
