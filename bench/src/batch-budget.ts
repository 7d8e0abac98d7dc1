// Which padded-token budget per model run gives the most tokens/s on one core? Runs 256
// real multilingual passages (gettext catalogs, "passage: " prefix) through the engine at
// several budgets, pinned to one core by the caller (`taskset -c 0 node …`), and writes
// bench/results/batch-budget-<date>.json.

import { Pipeline } from '../../src/pipeline/pipeline.js';
import { multilingualSample } from '../../test/helpers/gettext.js';
import { preparedFixture } from '../../test/helpers/models.js';
import { machineInfo, writeResult } from './machine.js';
import { embedTexts } from '../../test/helpers/door.js';

const texts = multilingualSample(256, 11).map((s) => `passage: ${s}`);
const { preparedDir } = await preparedFixture('e5-base', 'int8');
const rows: Array<{ budget: number; tokensPerSec: number; ms: number; tokens: number }> = [];
for (const budget of [64, 128, 256, 512, 1024, 2048]) {
  const p = await Pipeline.load(preparedDir, { threads: 1, batchTokens: budget });
  await embedTexts(p, texts.slice(0, 8), { prompt: 'passage', normalize: true, truncate: true });
  let best = Infinity;
  let tokens = 0;
  for (let run = 0; run < 2; run++) {
    const t0 = performance.now();
    tokens = (await embedTexts(p, texts, { prompt: 'passage', normalize: true, truncate: true })).tokens;
    best = Math.min(best, performance.now() - t0);
  }
  await p.close();
  rows.push({ budget, tokensPerSec: Math.round((tokens / best) * 1000), ms: Math.round(best), tokens });
  console.log(`budget ${budget}: ${Math.round((tokens / best) * 1000)} tokens/s (${tokens} tokens in ${Math.round(best)} ms)`);
}
const machine = machineInfo();
writeResult('batch-budget', machine, { machine, texts: texts.length, threads: 1, rows });
