// `npm run bench:stall [-- --vs OTHER_BUILD/dist/bin/main.js]`: does a large request stall the
// service? The e5-base-shaped int8 fixture served pinned to one core; the 2 MB hostile body (38
// inputs of 32,000 characters of "a\u00a0\u00a0" runs) sent to /v1/embeddings while /health is
// polled; its total time against Rust `tokenizers` on the same texts (one thread, whole texts,
// as TEI would), and the request path's usual figures (one query, 32 passages per call, RSS).
// With --vs, another build runs the same, alternating, in the same run.
// Writes bench/results/stall-<date>.json.

import { createRequire } from 'node:module';
import { hasTaskset, machineInfo, writeResult } from './machine.js';
import { hwm, median, ortosLoad } from './http-load.js';
import { FIXTURE_TOKENIZER_JSON, fixtureTokenizer } from '../../test/helpers/fixtures.js';
import { multilingualPassages, multilingualSample } from '../../test/helpers/gettext.js';
import { preparedFixture } from '../../test/helpers/models.js';
import { BIN, spawnServe } from '../../test/helpers/serve-process.js';

const PIN = hasTaskset() ? ['taskset', '-c', '0'] : [];
const HOSTILE = Array.from({ length: 38 }, () => 'a\u00a0\u00a0'.repeat(10_666));
const ROUNDS = 3;

interface Figures {
  hostileMs: number;
  healthWorstMs: number;
  healthPolls: number;
  queryP50Ms: number;
  passagesPerSec: number;
  rssMB: number;
}

async function measure(bin: string, modelDir: string, queries: string[], passages: string[]): Promise<Figures> {
  // No embedding cache (an older build given with --vs has none): the same body is sent again.
  const s = await spawnServe(['--model-dir', modelDir, '--threads', '1', '--max-queue-wait', '10m', ...(bin === BIN ? ['--cache-memory-mb', '0'] : [])], {}, PIN, bin);
  try {
    await s.waitFor('model ready', 120_000);
    const lat: number[] = [];
    for (const q of queries) {
      const t = performance.now();
      const r = await fetch(`${s.url}/v1/embeddings`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ input: q }) });
      await r.arrayBuffer();
      lat.push(performance.now() - t);
    }
    const load = await ortosLoad(s.url, passages, 32, 1);
    const t0 = performance.now();
    let done = false;
    const hostile = fetch(`${s.url}/v1/embeddings`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ input: HOSTILE }) })
      .then(async (r) => {
        await r.arrayBuffer();
        if (r.status !== 200) throw new Error(`hostile body: ${r.status}`);
        return performance.now() - t0;
      })
      .finally(() => (done = true));
    let worst = 0;
    let polls = 0;
    while (!done) {
      const p0 = performance.now();
      await (await fetch(`${s.url}/health`)).arrayBuffer();
      worst = Math.max(worst, performance.now() - p0);
      polls++;
      await new Promise((r) => setTimeout(r, 5));
    }
    return { hostileMs: await hostile, healthWorstMs: worst, healthPolls: polls, queryP50Ms: median(lat), passagesPerSec: load.textsPerSec, rssMB: hwm(s.child.pid as number) };
  } finally {
    s.child.kill('SIGTERM');
    await s.exited;
  }
}

async function tokenizerFigures(): Promise<Record<string, number>> {
  const rust = (createRequire(import.meta.url)('tokenizers') as { Tokenizer: { fromFile(p: string): { encode(s: string): Promise<unknown> } } }).Tokenizer.fromFile(FIXTURE_TOKENIZER_JSON);
  const tok = fixtureTokenizer();
  const time = async (f: (text: string) => unknown): Promise<number> => {
    const runs: number[] = [];
    for (let k = 0; k < 3; k++) {
      const t = performance.now();
      for (const text of HOSTILE) await f(text);
      runs.push(performance.now() - t);
    }
    return median(runs);
  };
  return {
    rustWholeMs: await time((t) => rust.encode(t)),
    oursWholeMs: await time((t) => tok.encode(t)),
    oursCutTo512Ms: await time((t) => tok.encode(t, { maxLength: 512 })),
  };
}

async function main(): Promise<void> {
  const vsAt = process.argv.indexOf('--vs');
  const other = vsAt > 0 ? process.argv[vsAt + 1] : undefined;
  const { modelDir } = await preparedFixture('e5-base', 'int8');
  const queries = multilingualSample(60, 11).map((q) => `query: ${q}`);
  const passages = multilingualPassages(256, 50, 2000, 12);
  const builds: Array<[string, string]> = [['this build', BIN], ...(other ? [['other build', other] as [string, string]] : [])];
  const runs: Record<string, Figures[]> = Object.fromEntries(builds.map(([name]) => [name, []]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, bin] of builds) {
      const f = await measure(bin, modelDir, queries, passages);
      runs[name].push(f);
      console.log(`round ${round + 1}, ${name}: hostile ${f.hostileMs.toFixed(0)} ms, /health worst ${f.healthWorstMs.toFixed(1)} ms (${f.healthPolls} polls), query p50 ${f.queryP50Ms.toFixed(1)} ms, ${f.passagesPerSec.toFixed(1)} passages/s, RSS ${f.rssMB.toFixed(0)} MB`);
    }
  }
  const tokenizer = await tokenizerFigures();
  console.log(`tokenizer on the 38 hostile inputs, one thread: Rust whole ${tokenizer.rustWholeMs.toFixed(0)} ms, ours whole ${tokenizer.oursWholeMs.toFixed(0)} ms, ours cut to 512 ${tokenizer.oursCutTo512Ms.toFixed(0)} ms`);
  const medians = Object.fromEntries(Object.entries(runs).map(([name, fs]) => [name, Object.fromEntries(
    (Object.keys(fs[0]) as Array<keyof Figures>).map((k) => [k, median(fs.map((f) => f[k]))]),
  )]));
  const machine = machineInfo();
  console.log(writeResult('stall', machine, { machine, pinned: PIN.length > 0, other: other ?? null, rounds: ROUNDS, medians, runs, tokenizer }));
}

await main();
