import { readTokenizerFile } from './dist/tokenizer/binary-file.js';
import { Tokenizer } from './dist/tokenizer/tokenizer.js';
import { planBatches } from './dist/engine/batching.js';
import { readFileSync } from 'node:fs';
const tok = new Tokenizer(readTokenizerFile('.cache/models/xlmr-e5-base-int8-20261126/ortos-prepared-int8/tokenizer.bin').data);
const texts = JSON.parse(readFileSync('.cache/bench-passages.json', 'utf8'));
const L = texts.map(t => tok.encode(t, { maxLength: 512 }).ids.length);
function dp(lengths, budget, overhead) {
  const order = lengths.map((_, i) => i).sort((a, b) => lengths[a] - lengths[b] || a - b);
  const n = order.length; const best = new Array(n + 1).fill(Infinity); const cut = new Array(n + 1).fill(0); best[0] = 0;
  for (let j = 1; j <= n; j++) { const max = lengths[order[j - 1]]; for (let i = j - 1; i >= 0; i--) { const rows = j - i; if (rows > 1 && rows * max > budget) break; const c = best[i] + rows * max + overhead; if (c < best[j]) { best[j] = c; cut[j] = i; } } }
  const out = []; for (let j = n; j > 0; j = cut[j]) out.unshift(order.slice(cut[j], j)); return out;
}
for (const per of [32, 256]) for (const ov of [0, 8, 16, 32]) {
  let g = 0, gb = 0, d = 0, db = 0;
  for (let i = 0; i < L.length; i += per) { const ls = L.slice(i, i + per);
    for (const b of planBatches(ls, 256)) { g += b.length * Math.max(...b.map(k => ls[k])); gb++; }
    for (const b of dp(ls, 256, ov)) { d += b.length * Math.max(...b.map(k => ls[k])); db++; } }
  console.log('per', per, 'overhead', ov, 'greedy padded', g, 'batches', gb, '| dp padded', d, 'batches', db);
}
console.log('lengths sample', L.slice(0, 32).join(','));
