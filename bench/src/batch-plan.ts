// Where to cut a length-sorted list of inputs into model runs: greedy filling up to the
// padded-token budget (the first planner) against planBatches (least padding plus a fixed
// cost per run) at several run costs. 256 real multilingual passages, sent 32 per call and
// all at once, through the engine on one core; the best of three interleaved rounds.
// Writes bench/results/batch-plan-<date>.json.
//
//   taskset -c 0 node build/bench/src/batch-plan.js

import { join } from 'node:path';
import { usableCores } from '../../src/cpu.js';
import { byLength, planBatches } from '../../src/engine/batching.js';
import { OnnxSession } from '../../src/engine/onnx-session.js';
import { PREPARED_FILES, readManifest } from '../../src/model/manifest.js';
import { EmbeddingRows } from '../../src/engine/embedding-rows.js';
import { readTokenizerFile } from '../../src/tokenizer/binary-file.js';
import { Tokenizer } from '../../src/tokenizer/tokenizer.js';
import { multilingualSample } from '../../test/helpers/gettext.js';
import { preparedFixture } from '../../test/helpers/models.js';
import { machineInfo, writeResult } from './machine.js';

const BUDGET = 256;

function greedy(lengths: readonly number[]): number[][] {
  const groups: number[][] = [];
  let longest = 0;
  for (const i of byLength(lengths)) {
    const last = groups.at(-1);
    if (last && Math.max(longest, lengths[i]) * (last.length + 1) <= BUDGET) {
      last.push(i);
      longest = Math.max(longest, lengths[i]);
    } else {
      groups.push([i]);
      longest = lengths[i];
    }
  }
  return groups;
}

const texts = multilingualSample(256, 11).map((s) => `passage: ${s}`);
const { preparedDir } = await preparedFixture('e5-base', 'int8');
const tok = new Tokenizer(readTokenizerFile(join(preparedDir, PREPARED_FILES.tokenizer)).data);
const inputs = texts.map((t) => tok.encode(t, { maxLength: 512 }).ids);
const realTokens = inputs.reduce((a, x) => a + x.length, 0);
const session = await OnnxSession.load(join(preparedDir, PREPARED_FILES.model), { threads: 1 });
const manifest = readManifest(preparedDir);
const table = manifest?.embeddings ? await EmbeddingRows.open(join(preparedDir, manifest.embeddings.file), manifest.embeddings.table) : undefined;

async function runAll(groups: number[][], ids: number[][]): Promise<void> {
  for (const g of groups) {
    const rows = g.length;
    const cols = Math.max(...g.map((i) => ids[i].length));
    const a = new BigInt64Array(rows * cols).fill(1n);
    const m = new BigInt64Array(rows * cols);
    g.forEach((k, r) => ids[k].forEach((v, t) => {
      a[r * cols + t] = BigInt(v);
      m[r * cols + t] = 1n;
    }));
    await session.forward(a, m, rows, cols, table ? await table.lookup(a) : undefined);
  }
}

const planners: Record<string, (l: readonly number[]) => number[][]> = {
  greedy,
  'plan, run cost 4': (l) => planBatches(l, BUDGET, Infinity, 4),
  'plan, run cost 8 (default)': (l) => planBatches(l, BUDGET, Infinity, 8),
  'plan, run cost 16': (l) => planBatches(l, BUDGET, Infinity, 16),
};
await runAll([[0, 1, 2]], inputs);
const best = new Map<string, { ms: number; runs: number; padded: number }>();
for (let round = 0; round < 3; round++) {
  for (const per of [32, 256]) {
    for (const [name, plan] of Object.entries(planners)) {
      let runs = 0;
      let padded = 0;
      const t0 = performance.now();
      for (let i = 0; i < inputs.length; i += per) {
        const ids = inputs.slice(i, i + per);
        const groups = plan(ids.map((x) => x.length));
        runs += groups.length;
        padded += groups.reduce((s, g) => s + g.length * Math.max(...g.map((k) => ids[k].length)), 0);
        await runAll(groups, ids);
      }
      const ms = performance.now() - t0;
      const key = `${per}|${name}`;
      if (!best.has(key) || best.get(key)!.ms > ms) best.set(key, { ms, runs, padded });
    }
  }
}
await session.release();
const rows = [...best.entries()].map(([key, v]) => {
  const [per, planner] = key.split('|');
  return { perCall: Number(per), planner, runs: v.runs, paddedTokens: v.padded, tokensPerSec: Math.round((realTokens / v.ms) * 1000) };
});
const machine = machineInfo();
console.log(`batch plan: ${texts.length} gettext passages, ${realTokens} tokens, budget ${BUDGET}, ${usableCores() === 1 ? 'one core' : `${usableCores()} cores (not pinned)`}, best of 3 rounds`);
console.log('| texts per call | planner | runs | padded tokens | tokens/s |');
console.log('|---|---|---|---|---|');
for (const r of rows) console.log(`| ${r.perCall} | ${r.planner} | ${r.runs} | ${r.paddedTokens} | ${r.tokensPerSec} |`);
writeResult('batch-plan', machine, { machine, texts: texts.length, tokens: realTokens, budget: BUDGET, cores: usableCores(), rows });
