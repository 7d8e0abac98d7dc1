// End to end on the prepared tiny fixture: texts in, unit vectors out, padding-invariant.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { preparedFixture } from '../helpers/models.js';
import { Pipeline } from '../../src/pipeline/pipeline.js';
import { embedTexts } from '../helpers/door.js';

// fp32: exact padding invariance is a property of pooling and masking. The int8 graph
// quantizes activations per tensor (onnxruntime's dynamic quantization), so the other rows
// of a batch shift its scale slightly; that bound is checked separately below.
let pipeline: Pipeline;
let int8: Pipeline;
before(async () => {
  pipeline = await Pipeline.load((await preparedFixture('tiny', 'fp32')).preparedDir, { threads: 1, batchTokens: 256 });
  int8 = await Pipeline.load((await preparedFixture('tiny', 'int8')).preparedDir, { threads: 1, batchTokens: 256 });
});
after(async () => {
  await pipeline.close();
  await int8.close();
});

const norm = (v: Float32Array): number => Math.sqrt(v.reduce((s, x) => s + x * x, 0));

test('a text embedded alone equals the same text inside a batch with longer texts (max abs diff ≤ 1e-5)', async () => {
  const opts = { prompt: 'query', normalize: true, truncate: true };
  const alone = (await embedTexts(pipeline, ['привет мир'], opts)).vectors[0];
  // A few tokens longer only: padding the short text costs less than a run of its own, so the
  // planner keeps the three together (asserted below).
  const longer = ['a text that pads the short one', 'привет мир', 'another text, other length'];
  let batches = 0;
  const mixed = await embedTexts(pipeline, longer, opts, () => batches++);
  assert.equal(batches, 1, 'all three should share one padded batch for this check to mean anything');
  let worst = 0;
  for (let i = 0; i < alone.length; i++) worst = Math.max(worst, Math.abs(alone[i] - mixed.vectors[1][i]));
  assert.ok(worst <= 1e-5, `max abs diff ${worst}`);
});

test('int8: batching changes a vector only within the activation-quantization error (cosine ≥ 0.9999)', async () => {
  const opts = { prompt: 'query', normalize: true, truncate: true };
  const alone = (await embedTexts(int8, ['привет мир'], opts)).vectors[0];
  let batches = 0;
  const mixed = (await embedTexts(int8, ['a text that pads the short one', 'привет мир'], opts, () => batches++)).vectors[1];
  assert.equal(batches, 1, 'one padded batch');
  const cos = alone.reduce((s, x, i) => s + x * mixed[i], 0);
  assert.ok(cos >= 0.9999, `cosine ${cos}`);
});

test('vectors have the model width and unit norm; --no-normalize keeps the raw mean', async () => {
  const r = await embedTexts(pipeline, ['one', 'two', 'три'], { prompt: 'passage', normalize: true, truncate: true });
  for (const v of r.vectors) {
    assert.equal(v.length, pipeline.dimensions);
    assert.ok(Math.abs(norm(v) - 1) < 1e-5);
  }
  const raw = await embedTexts(pipeline, ['one'], { prompt: 'passage', normalize: false, truncate: true });
  assert.ok(Math.abs(norm(raw.vectors[0]) - 1) > 1e-3);
});

test('inputs come back in input order even though batches are length-sorted', async () => {
  const texts = ['x '.repeat(50), 'y', 'z '.repeat(10)];
  const together = await embedTexts(pipeline, texts, { prompt: 'query', normalize: true, truncate: true });
  for (let i = 0; i < texts.length; i++) {
    const single = (await embedTexts(pipeline, [texts[i]], { prompt: 'query', normalize: true, truncate: true })).vectors[0];
    assert.ok(single.every((x, k) => Math.abs(x - together.vectors[i][k]) <= 1e-5));
  }
});

test('a 100k-character input is embedded (truncated to 512 tokens) and reported', async () => {
  const r = await embedTexts(pipeline, ['длинный текст '.repeat(7200)], { prompt: 'passage', normalize: true, truncate: true });
  assert.equal(r.truncated, 1);
  assert.equal(r.tokens, 512);
});

test('a graph with a token_type_ids input is fed zeros and gives the same vectors', async () => {
  const { mkdtempSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { writeFixtureModel } = await import('../fixture-models/generate.js');
  const { resolveModelDir } = await import('../../src/model/layout.js');
  const { prepareModel, defaultPreparedDir } = await import('../../src/prepare/prepare.js');
  const dir = mkdtempSync(join(tmpdir(), 'ortos-tti-'));
  try {
    writeFixtureModel(dir, 'tiny', 'fp32', undefined, { tokenTypeInput: true });
    const prepared = await prepareModel(resolveModelDir(dir), defaultPreparedDir(dir, 'fp32'), {}, () => {});
    const p = await Pipeline.load(prepared.dir, { threads: 1, batchTokens: 256 });
    try {
      assert.ok(p.manifest.io.inputs.includes('token_type_ids'));
      const opts = { prompt: 'query', normalize: true, truncate: true };
      const a = (await embedTexts(p, ['привет мир', 'longer text here'], opts)).vectors;
      const b = (await embedTexts(pipeline, ['привет мир', 'longer text here'], opts)).vectors;
      for (let i = 0; i < 2; i++) assert.ok(a[i].every((x, k) => Math.abs(x - b[i][k]) < 1e-5));
    } finally {
      await p.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
