// `npm run bench:rerank`: the reranker beside the embedder on one small Machine, with
// e5-base's shape and cross-encoder/mmarco-mMiniLMv2-L12-H384-v1's (random weights), one core:
//
// 1. Wake of the embedder: this build serving e5-base alone, the same with the reranker
//    configured (it loads on its first request), and another build (--vs) alone; cold and warm,
//    alternating run by run. The reranker must cost the wake nothing.
// 2. Reranking 1 query × 20 passages of ~100 tokens over HTTP: p50 and p95 of sequential
//    requests, the reranker loaded; and transformers.js on the same files (in-process).
// 3. Peak RSS of the process under load: embedding requests (32 passages each) and rerank
//    requests (20 pairs each, and 20 max-length pairs) at once, against the 450 MB goal.
//
//   node build/bench/src/rerank.js [--runs N] [--vs OTHER/dist/bin/main.js]

import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { multilingualSample } from '../../test/helpers/gettext.js';
import { CACHE_DIR, PROJECT_ROOT } from '../../test/helpers/fixtures.js';
import { preparedFixture } from '../../test/helpers/models.js';
import { cachedFixture, onnxFileFor } from '../../test/fixture-models/generate.js';
import { spawnServe, type ServeProcess } from '../../test/helpers/serve-process.js';
import { hasTaskset, machineInfo, writeResult } from './machine.js';
import { hwm, median, ortosLoad, pct } from './http-load.js';
import { wakeOnce, type WakeRun } from './wake.js';
import { prepareModel, defaultPreparedDir } from '../../src/prepare/prepare.js';
import { resolveModelDir } from '../../src/model/layout.js';

const PIN = hasTaskset() ? ['taskset', '-c', '0'] : [];

/** ~100 tokens of multilingual gettext text per passage. */
function passages(sample: string[], n: number, words: number): string[] {
  const out: string[] = [];
  let i = 0;
  while (out.length < n) {
    let p = '';
    while (p.split(/\s+/).length < words) p += `${sample[i++ % sample.length]} `;
    out.push(p.trim());
  }
  return out;
}

async function rerankLatency(url: string, query: string, texts: string[], runs: number): Promise<{ p50: number; p95: number; tokens: number }> {
  const lat: number[] = [];
  let tokens = 0;
  for (let i = 0; i < runs + 3; i++) {
    const t = performance.now();
    const r = await fetch(`${url}/v1/rerank`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query, documents: texts, return_documents: false }) });
    const body = (await r.json()) as { usage: { total_tokens: number } };
    if (r.status !== 200) throw new Error(`rerank answered ${r.status}`);
    tokens = body.usage.total_tokens;
    if (i >= 3) lat.push(performance.now() - t);
  }
  return { p50: pct(lat, 0.5), p95: pct(lat, 0.95), tokens };
}

function peerView(source: string): string {
  const dir = join(CACHE_DIR, 'peers', 'transformers-rerank-mminilm');
  if (existsSync(join(dir, 'onnx', 'model_quantized.onnx'))) return dir;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, 'onnx'), { recursive: true });
  for (const f of ['config.json', 'tokenizer.json', 'tokenizer_config.json']) symlinkSync(join(source, f), join(dir, f));
  symlinkSync(join(source, 'onnx', onnxFileFor('int8')), join(dir, 'onnx', 'model_quantized.onnx'));
  return dir;
}

async function main(): Promise<void> {
  const get = (flag: string): string | undefined => (process.argv.includes(flag) ? process.argv[process.argv.indexOf(flag) + 1] : undefined);
  const runs = Number(get('--runs') ?? 5);
  const other = get('--vs');
  const machine = machineInfo();
  const { modelDir } = await preparedFixture('e5-base', 'int8');
  const rerankDir = cachedFixture('rerank-mminilm', 'int8');
  await prepareModel(resolveModelDir(rerankDir, 'int8'), defaultPreparedDir(rerankDir, 'int8'), {}, () => {});
  const sample = multilingualSample(4000, 23);
  const query = 'Как вернуть товар, купленный в интернет-магазине, и получить деньги обратно?';
  const twenty = passages(sample, 20, 45);
  const result: Record<string, unknown> = { machine, pinned: PIN.length > 0, embedder: 'e5-base shape, int8', reranker: 'mmarco-mMiniLMv2-L12-H384 shape, int8' };

  // 1. Wake.
  const variants: Array<[string, string[], string | undefined]> = [['alone', [], undefined], ['with reranker configured', ['--rerank-model-dir', rerankDir], undefined]];
  if (other !== undefined) {
    // Its own prepared folder: builds of another prepared format would remake each other's.
    const otherPrepared = join(CACHE_DIR, 'prepared-other-build');
    execFileSync(process.execPath, [other, 'prepare', '--model-dir', modelDir, '--prepared-dir', otherPrepared], { stdio: 'ignore' });
    variants.push(['other build, alone', ['--prepared-dir', otherPrepared], other]);
  }
  const wakes: Record<string, { cold: WakeRun[]; warm: WakeRun[] }> = Object.fromEntries(variants.map(([name]) => [name, { cold: [], warm: [] }]));
  let port = 18700;
  for (let r = 0; r < runs; r++) {
    for (const cold of [true, false]) {
      for (const [name, extra, bin] of variants) {
        // Warm means its files in the page cache: the runs before may have evicted them (a cold
        // run drops the cache, and the other build reads its own prepared folder).
        if (!cold) await wakeOnce(modelDir, port++, false, extra, bin);
        const w = await wakeOnce(modelDir, port++, cold, extra, bin);
        wakes[name][cold ? 'cold' : 'warm'].push(w);
      }
    }
  }
  const summary = (xs: WakeRun[]): { firstResponseMs: number; peakRssMB: number; runs: number[] } => ({ firstResponseMs: Math.round(median(xs.map((x) => x.firstResponseMs))), peakRssMB: Math.round(median(xs.map((x) => x.peakRssMB))), runs: xs.map((x) => Math.round(x.firstResponseMs)) });
  result.wake = Object.fromEntries(Object.entries(wakes).map(([k, v]) => [k, { cold: summary(v.cold), warm: summary(v.warm) }]));
  console.log('wake', JSON.stringify(result.wake));

  // 2 and 3: one process serving both.
  const s: ServeProcess = await spawnServe(['--model-dir', modelDir, '--rerank-model-dir', rerankDir, '--threads', '1', '--max-queue-wait', '600s'], {}, PIN);
  try {
    await s.waitFor('model ready', 120_000);
    const rssBeforeRerank = hwm(s.child.pid as number);
    const latency = await rerankLatency(s.url, query, twenty, 30);
    const rssAfterRerankLoad = hwm(s.child.pid as number);
    result.latency = { query_x20: latency, avgTokensPerPair: Math.round(latency.tokens / 20) };
    console.log('rerank 1×20', JSON.stringify(result.latency));
    const long = passages(sample, 20, 600);
    const embedTexts = passages(sample, 640, 40);
    const load = await Promise.all([
      ortosLoad(s.url, embedTexts, 32, 4),
      (async () => {
        const lat: number[] = [];
        for (let i = 0; i < 6; i++) {
          const t = performance.now();
          const r = await fetch(`${s.url}/v1/rerank`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query, documents: i % 2 ? long : twenty }) });
          await r.arrayBuffer();
          if (r.status !== 200) throw new Error(`rerank under load answered ${r.status}`);
          lat.push(performance.now() - t);
        }
        return lat;
      })(),
    ]);
    result.memory = { rssAfterEmbedderWakeMB: Math.round(rssBeforeRerank), rssAfterRerankerLoadMB: Math.round(rssAfterRerankLoad), peakUnderLoadMB: Math.round(hwm(s.child.pid as number)), goalMB: 450 };
    result.underLoad = { embedPassagesPerSec: Math.round(load[0].textsPerSec), rerankMs: load[1].map(Math.round) };
    console.log('memory', JSON.stringify(result.memory));
  } finally {
    s.child.kill('SIGTERM');
    await s.exited;
  }

  // transformers.js on the same files.
  if (existsSync(join(PROJECT_ROOT, 'bench', 'peers', 'node_modules', '@huggingface', 'transformers'))) {
    const work = mkdtempSync(join(tmpdir(), 'ortos-rerank-'));
    try {
      const jobFile = join(work, 'job.json');
      writeFileSync(jobFile, JSON.stringify({ query, passages: twenty, runs: 30 }));
      const out = execFileSync(PIN.length > 0 ? PIN[0] : process.execPath, [...PIN.slice(1), ...(PIN.length > 0 ? [process.execPath] : []), join(PROJECT_ROOT, 'build', 'bench', 'src', 'rerank-peer.js'), peerView(rerankDir), jobFile], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
      const peer = JSON.parse(out.trim().split('\n').at(-1) as string) as { loadMs: number; p50: number; p95: number; peakRssMB: number; scores: number[] };
      result.transformersJs = { version: '4.3 q8, in-process (no HTTP)', loadMs: Math.round(peer.loadMs), p50: peer.p50, p95: peer.p95, peakRssMB: Math.round(peer.peakRssMB) };
      console.log('transformers.js', JSON.stringify(result.transformersJs));
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  } else {
    result.transformersJs = 'not installed (npm run bench installs bench/peers)';
  }
  console.log(`wrote ${writeResult('rerank', machine, result)}`);
}

await main();
