// The cost of q4: the e5-base-shaped fixture prepared as int8 and as 4-bit MatMulNBits with
// several block sizes and accuracy levels, each measured in-process on one core: bytes of
// weights, session load, one-query latency, batch throughput, and how far its vectors move
// from the int8 ones on real multilingual text (cosine, and agreement of the top-10
// neighbours of 64 queries among 256 passages). The fixture has random weights: this shows
// how much the arithmetic changes the vectors, not how retrieval quality changes on the real
// model (`ortos-embed verify --dtype q4` measures that on the real weights).
//
//   npm run bench:q4      (re-runs itself pinned to one core when taskset is there)

import { statSync } from 'node:fs';
import { join } from 'node:path';
import { resolveModelDir } from '../../src/model/layout.js';
import { PREPARED_FILES } from '../../src/model/manifest.js';
import { Pipeline } from '../../src/pipeline/pipeline.js';
import { Q4, prepareModel } from '../../src/prepare/prepare.js';
import { CACHE_DIR } from '../../test/helpers/fixtures.js';
import { multilingualSample } from '../../test/helpers/gettext.js';
import { preparedFixture } from '../../test/helpers/models.js';
import { usableCores } from '../../src/cpu.js';
import { spawnSync } from 'node:child_process';
import { hasTaskset, machineInfo, writeResult } from './machine.js';
import { embedTexts } from '../../test/helpers/door.js';

const VARIANTS = [
  { name: 'int8', q4: null },
  { name: 'q4 block 32, level 4', q4: { blockSize: 32, accuracyLevel: 4 } },
  { name: 'q4 block 32, level 0', q4: { blockSize: 32, accuracyLevel: 0 } },
  { name: 'q4 block 64, level 4', q4: { blockSize: 64, accuracyLevel: 4 } },
  { name: 'q4 block 128, level 4', q4: { blockSize: 128, accuracyLevel: 4 } },
] as const;

const dot = (a: Float32Array, b: Float32Array): number => a.reduce((s, x, i) => s + x * b[i], 0);
const pct = (xs: number[], q: number): number => xs.slice().sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))];

function topK(q: Float32Array, passages: Float32Array[], k: number): number[] {
  return passages.map((p, i) => [dot(q, p), i] as const).sort((a, b) => b[0] - a[0]).slice(0, k).map(([, i]) => i);
}

async function main(): Promise<void> {
  const { modelDir } = await preparedFixture('e5-base', 'int8');
  const raw = multilingualSample(320, 7);
  const passages = raw.slice(0, 256).map((s) => `passage: ${s}`);
  const queries = raw.slice(256).map((s) => `query: ${s}`);
  const machine = machineInfo();
  const results: Array<Record<string, unknown>> = [];
  let base: { p: Float32Array[]; q: Float32Array[]; top: number[][] } | null = null;
  for (const v of VARIANTS) {
    const dir = v.q4 === null ? join(modelDir, 'ortos-prepared-int8') : join(CACHE_DIR, 'bench-q4', `b${v.q4.blockSize}-l${v.q4.accuracyLevel}`);
    const files = resolveModelDir(modelDir, v.q4 === null ? 'int8' : 'q4');
    await prepareModel(files, dir, {}, (m) => console.log(m), v.q4 === null ? {} : { q4: v.q4 });
    const t0 = performance.now();
    const pipe = await Pipeline.load(dir, { threads: 1, batchTokens: 256 });
    const loadMs = performance.now() - t0;
    const opts = { prompt: 'passage', normalize: true, truncate: true };
    await embedTexts(pipe, ['query: разогрев'], opts);
    const single: number[] = [];
    for (let i = 0; i < 60; i++) {
      const t = performance.now();
      await embedTexts(pipe, [`query: как быстро разбудить сервис номер ${i}?`], opts);
      single.push(performance.now() - t);
    }
    const t1 = performance.now();
    const p = await embedTexts(pipe, passages, opts);
    const batchMs = performance.now() - t1;
    const q = (await embedTexts(pipe, queries, opts)).vectors;
    await pipe.close();
    const top = q.map((x) => topK(x, p.vectors, 10));
    const row: Record<string, unknown> = {
      variant: v.name,
      weightsMiB: +(statSync(join(dir, PREPARED_FILES.data)).size / 2 ** 20).toFixed(1),
      loadMs: Math.round(loadMs),
      singleP50Ms: +pct(single, 0.5).toFixed(1),
      tokensPerSec: Math.round(p.tokens / (batchMs / 1000)),
    };
    if (base === null) {
      base = { p: p.vectors, q, top };
    } else {
      const cos = [...p.vectors.map((x, i) => dot(x, base!.p[i])), ...q.map((x, i) => dot(x, base!.q[i]))];
      row.cosineToInt8 = { min: +Math.min(...cos).toFixed(4), p1: +pct(cos, 0.01).toFixed(4), mean: +(cos.reduce((a, b) => a + b, 0) / cos.length).toFixed(4) };
      row.top10Overlap = +(top.reduce((a, t, i) => a + t.filter((x) => base!.top[i].includes(x)).length, 0) / (top.length * 10)).toFixed(3);
      row.top1Same = +(top.filter((t, i) => t[0] === base!.top[i][0]).length / top.length).toFixed(3);
    }
    results.push(row);
    console.log(JSON.stringify(row));
  }
  console.log(`\nq4 against int8: e5-base-shaped fixture with RANDOM weights (retrieval quality on the real model is not measured here), ` +
    `${passages.length} passages + ${queries.length} queries from gettext catalogs; ${machine.cpu}, ${machine.flags.join(' ')}, ` +
    `${usableCores() === 1 ? 'one core' : `${usableCores()} cores (not pinned)`}; default q4 is block ${Q4.blockSize}, level ${Q4.accuracyLevel}`);
  console.log('| variant | weights file (MiB) | load (ms, warm) | one query p50 (ms) | tokens/s, 256 passages | cosine to int8 min / p1 / mean | top-10 overlap | same top-1 |');
  console.log('|---|---|---|---|---|---|---|---|');
  for (const r of results) {
    const c = r.cosineToInt8 as { min: number; p1: number; mean: number } | undefined;
    console.log(`| ${r.variant} | ${r.weightsMiB} | ${r.loadMs} | ${r.singleP50Ms} | ${r.tokensPerSec} | ${c ? `${c.min} / ${c.p1} / ${c.mean}` : '—'} | ${r.top10Overlap ?? '—'} | ${r.top1Same ?? '—'} |`);
  }
  const file = writeResult('q4', machine, { machine, note: 'random-weight fixture: vectors compared with int8, not retrieval quality', cores: usableCores(), passages: passages.length, queries: queries.length, results });
  console.log(`written ${file}`);
}

if (usableCores() > 1 && hasTaskset()) {
  const r = spawnSync('taskset', ['-c', '0', process.execPath, ...process.argv.slice(1)], { stdio: 'inherit' });
  process.exitCode = r.status ?? 1;
} else {
  await main();
}
