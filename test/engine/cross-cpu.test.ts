// Same vectors on every x86 CPU: the int8 fixture embedded by the real CLI on this CPU and on
// an emulated one without VNNI, both compared with an exact reference of the same int8
// arithmetic (Rust `tokenizers` for the ids, the plain TypeScript forward pass in int8 mode,
// mean pooling over the tokens, L2), so the truth does not depend on any host.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import { FIXTURE_SEED } from '../fixture-models/generate.js';
import { referenceForward } from '../fixture-models/reference-forward.js';
import { randomWeights, TINY } from '../fixture-models/xlmr-weights.js';
import { qemuBinary, runEmulated, SKIP_WITHOUT_QEMU } from '../helpers/emulated-cpu.js';
import { FIXTURE_TOKENIZER_JSON } from '../helpers/fixtures.js';
import { preparedFixture } from '../helpers/models.js';
import { Oracle } from '../helpers/oracle.js';
import { BIN } from '../helpers/serve-process.js';
import { cosine } from '../../src/engine/cosine.js';
import { skipOrFail } from '../helpers/skip.js';

// Each at least 9 tokens: with --batch-tokens 16 every text runs alone, as the reference does
// (int8 activations are quantized per batch tensor, so batch-mates move a vector by ~1e-4).
const TEXTS = [
  'сколько стоит доставка в Новосибирск зимой',
  'Le chat dort sur le canapé pendant que la pluie tombe',
  'how much protein should a grown woman eat every day',
  '東京は日本の首都であり、世界最大の都市圏の一つです。',
];

function referenceVectors(): Promise<Float64Array[]> {
  const w = randomWeights(TINY, FIXTURE_SEED);
  return new Oracle(FIXTURE_TOKENIZER_JSON).encodeAll(TEXTS.map((t) => `query: ${t}`)).then((encs) => encs.map(({ ids }) => {
    const h = referenceForward(w, ids, 'int8');
    const H = TINY.hidden;
    const v = new Float64Array(H);
    for (let t = 0; t < ids.length; t++) for (let i = 0; i < H; i++) v[i] += h[t * H + i] / ids.length;
    const norm = Math.hypot(...v);
    return v.map((x) => x / norm);
  }));
}

function embedArgs(modelDir: string): string[] {
  return [BIN, 'embed', '--model-dir', modelDir, '--threads', '1', '--batch-tokens', '16', ...TEXTS];
}

function native(args: string[], env: NodeJS.ProcessEnv = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(err))));
  });
}

const parse = (out: string): number[][] => out.trim().split('\n').map((l) => JSON.parse(l) as number[]);
const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
};

test('int8 vectors: this CPU, an emulated CPU without VNNI and the exact int8 reference agree', async (t) => {
  const { modelDir } = await preparedFixture('tiny', 'int8');
  const ref = await referenceVectors();
  const here = parse(await native(embedArgs(modelDir)));
  for (let i = 0; i < TEXTS.length; i++) {
    const c = cosine(here[i], ref[i]);
    const d = maxDiff(here[i], ref[i]);
    t.diagnostic(`this CPU vs reference, text ${i}: cosine ${c.toFixed(9)}, max |diff| ${d.toExponential(2)}`);
    assert.ok(c >= 0.99999 && d <= 2e-6, `text ${i}: cosine ${c}, max diff ${d}`);
  }
  if (qemuBinary() === null) return skipOrFail(t, SKIP_WITHOUT_QEMU);
  const run = await runEmulated(embedArgs(modelDir));
  assert.equal(run.code, 0, run.stderr);
  const emulated = parse(run.stdout);
  for (let i = 0; i < TEXTS.length; i++) {
    const c = cosine(emulated[i], ref[i]);
    const d = maxDiff(emulated[i], ref[i]);
    t.diagnostic(`emulated EPYC-Rome vs reference, text ${i}: cosine ${c.toFixed(9)}, max |diff| ${d.toExponential(2)}`);
    assert.ok(c >= 0.99999 && d <= 2e-6, `text ${i}: cosine ${c}, max diff ${d}`);
    assert.ok(cosine(emulated[i], here[i]) >= 0.99999);
  }
  // The same check with int8 weights forced on the emulated CPU fails: saturation is visible.
  const forced = await runEmulated(embedArgs(modelDir), { INT8_WEIGHTS: 's8' });
  const saturated = parse(forced.stdout);
  const worst = Math.max(...saturated.map((v, i) => maxDiff(v, ref[i])));
  t.diagnostic(`emulated, int8 weights forced: worst max |diff| ${worst.toExponential(2)}`);
  assert.ok(worst > 1e-4, `saturation should move the vectors beyond the bound (${worst})`);
});
