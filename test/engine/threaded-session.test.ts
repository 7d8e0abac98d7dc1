// The model on its own thread gives what the same embedder gives on this one, bit for bit
// (pooled vectors and token vectors); runs in flight at once come back to their own callers; a
// failed run is that run's error and the thread goes on; after release, runs are refused.

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { readManifest } from '../../src/model/manifest.js';
import { preparedFixture } from '../helpers/models.js';
import { Embedder } from '../../src/engine/embedder.js';
import { EmbeddingRows } from '../../src/engine/embedding-rows.js';
import { OnnxSession } from '../../src/engine/onnx-session.js';
import { ThreadedSession } from '../../src/engine/threaded-session.js';

/** Rows of token ids, <s> … </s>, of the given lengths. */
function rows(lengths: number[], seed: number): number[][] {
  return lengths.map((len, r) => Array.from({ length: len }, (_, t) => (t === 0 ? 0 : t === len - 1 ? 2 : 5 + ((seed * 7 + r * 131 + t * 17) % 5000))));
}

test('the threaded model: same vectors and token vectors as the embedder run here; errors per run; refused after release', { timeout: 60_000 }, async () => {
  const { preparedDir } = await preparedFixture('tiny', 'fp32');
  const { session, graph, int8 } = await ThreadedSession.load(preparedDir, { int8Weights: 'auto', threads: 1, batchTokens: 256 });
  assert.equal(int8, null, 'an fp32 model has no int8 choice');
  const manifest = readManifest(preparedDir);
  assert.ok(manifest?.embeddings, 'the prepared graph takes the looked-up word embeddings');
  const here = await OnnxSession.load(join(preparedDir, graph), { threads: 1 });
  const table = await EmbeddingRows.open(join(preparedDir, manifest.embeddings.file), manifest.embeddings.table);
  const local = new Embedder(here, { batchTokens: 256, padId: manifest.config.padId, pooling: manifest.rules.pooling, rows: table });
  try {
    const a = rows([9, 8, 7], 1);
    const tokens = [false, true, false];
    const got = await session.run(a, tokens);
    const want = await local.run(a, tokens);
    assert.deepEqual(got.map((v) => Array.from(v)), want.map((v) => Array.from(v)));
    assert.equal(got[1].length, 8 * got[0].length, 'the second row\'s token vectors, all eight');
    // Runs in flight at once come back to their own callers.
    const shapes = [[4], [7, 6], [12, 3, 9, 11], [30]];
    const all = await Promise.all(shapes.map((s, k) => session.run(rows(s, k), null)));
    for (const [k, s] of shapes.entries()) {
      assert.deepEqual(all[k].map((v) => Array.from(v)), (await local.run(rows(s, k), null)).map((v) => Array.from(v)), `run ${k}`);
    }
    await assert.rejects(session.run([[0, 5_000_000, 2]], null), /./, 'an id outside the table is that run\'s error');
    assert.equal((await session.run(rows([6], 9), null)).length, 1, 'and the thread goes on');
  } finally {
    await session.release();
    await here.release();
    await table.close();
  }
  await assert.rejects(session.run(rows([3], 0), null), /inference thread stopped/);
});
