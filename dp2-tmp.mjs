import { readTokenizerFile } from './dist/tokenizer/binary-file.js';
import { Tokenizer } from './dist/tokenizer/tokenizer.js';
import { planBatches } from './dist/engine/batching.js';
import { OnnxSession } from './dist/engine/onnx-session.js';
import { readFileSync } from 'node:fs';
const dir = '.cache/models/xlmr-e5-base-int8-20261126/ortos-prepared-int8';
const tok = new Tokenizer(readTokenizerFile(dir + '/tokenizer.bin').data);
const texts = JSON.parse(readFileSync('.cache/bench-passages.json', 'utf8'));
const IDS = texts.map(t => tok.encode(t, { maxLength: 512 }).ids);
const s = await OnnxSession.load(dir + '/model.onnx', { threads: 1 });
function dp(lengths, budget, overhead) {
  const order = lengths.map((_, i) => i).sort((a, b) => lengths[a] - lengths[b] || a - b);
  const n = order.length; const best = new Array(n + 1).fill(Infinity); const cut = new Array(n + 1).fill(0); best[0] = 0;
  for (let j = 1; j <= n; j++) { const max = lengths[order[j - 1]]; for (let i = j - 1; i >= 0; i--) { const rows = j - i; if (rows > 1 && rows * max > budget) break; const c = best[i] + rows * max + overhead; if (c < best[j]) { best[j] = c; cut[j] = i; } } }
  const out = []; for (let j = n; j > 0; j = cut[j]) out.unshift(order.slice(cut[j], j)); return out;
}
async function run(groups, ids) { for (const g of groups) { const rows = g.length, cols = Math.max(...g.map(i => ids[i].length)); const a = new BigInt64Array(rows * cols).fill(1n), m = new BigInt64Array(rows * cols); g.forEach((k, r) => ids[k].forEach((v, t) => { a[r * cols + t] = BigInt(v); m[r * cols + t] = 1n; })); await s.forward(a, m, rows, cols); } }
await run([[0, 1, 2]], IDS);
const planners = { greedy: (l) => planBatches(l, 256), dp4: (l) => dp(l, 256, 4), dp8: (l) => dp(l, 256, 8), dp16: (l) => dp(l, 256, 16), dp32: (l) => dp(l, 256, 32) };
for (let rep = 0; rep < 2; rep++) for (const per of [32, 256]) for (const [name, plan] of Object.entries(planners)) {
  const t = performance.now();
  for (let i = 0; i < IDS.length; i += per) { const ids = IDS.slice(i, i + per); await run(plan(ids.map(x => x.length)), ids); }
  console.log(rep, 'per', per, name, Math.round(2703 / ((performance.now() - t) / 1000)), 'tok/s');
}
