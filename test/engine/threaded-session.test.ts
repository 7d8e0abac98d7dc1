// The session on its own thread gives what the same session gives on this one, bit for bit;
// a failed run is that run's error and the thread goes on; after release, runs are refused.

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { readManifest } from '../../src/model/manifest.js';
import { preparedFixture } from '../helpers/models.js';
import { EmbeddingRows } from '../../src/engine/embedding-rows.js';
import { OnnxSession } from '../../src/engine/onnx-session.js';
import { ThreadedSession } from '../../src/engine/threaded-session.js';

function batch(rows: number, cols: number): { ids: BigInt64Array; mask: BigInt64Array } {
  const ids = new BigInt64Array(rows * cols).fill(1n);
  const mask = new BigInt64Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const len = cols - r;
    for (let t = 0; t < len; t++) {
      ids[r * cols + t] = BigInt(t === 0 ? 0 : t === len - 1 ? 2 : 5 + ((r * 131 + t * 17) % 5000));
      mask[r * cols + t] = 1n;
    }
  }
  return { ids, mask };
}

test('the threaded session: same hidden state as the session run here; errors per run; refused after release', { timeout: 60_000 }, async () => {
  const { preparedDir } = await preparedFixture('tiny', 'fp32');
  const { session, graph, int8 } = await ThreadedSession.load(preparedDir, { int8Weights: 'auto', threads: 1 });
  assert.equal(int8, null, 'an fp32 model has no int8 choice');
  const here = await OnnxSession.load(join(preparedDir, graph), { threads: 1 });
  const manifest = readManifest(preparedDir);
  assert.ok(manifest?.embeddings, 'the prepared graph takes the looked-up word embeddings');
  const rows = await EmbeddingRows.open(join(preparedDir, manifest.embeddings.file), manifest.embeddings.table);
  const embeds = (ids: BigInt64Array): Promise<Float32Array> => rows.lookup(ids);
  try {
    assert.deepEqual(session.io, here.io);
    const a = batch(3, 9);
    const want = await here.forward(a.ids.slice(), a.mask.slice(), 3, 9, await embeds(a.ids));
    const got = await session.forward(a.ids, a.mask, 3, 9, await embeds(a.ids));
    assert.equal(a.ids.length, 0, 'the inputs were moved to the thread, not copied');
    assert.equal(got.dim, want.dim);
    assert.deepEqual(Array.from(got.hidden), Array.from(want.hidden));
    // Runs in flight at once come back to their own callers.
    const shapes = [[1, 4], [2, 7], [4, 12], [1, 30]] as const;
    const inputs = await Promise.all(shapes.map(async ([r, c]) => ({ ...batch(r, c), embeds: await embeds(batch(r, c).ids) })));
    const all = await Promise.all(shapes.map(([r, c], k) => session.forward(inputs[k].ids.slice(), inputs[k].mask.slice(), r, c, inputs[k].embeds.slice())));
    for (const [k, [r, c]] of shapes.entries()) {
      const b = inputs[k];
      assert.deepEqual(Array.from(all[k].hidden), Array.from((await here.forward(b.ids, b.mask, r, c, b.embeds)).hidden), `run ${k}`);
    }
    const bad = batch(2, 5);
    await assert.rejects(session.forward(bad.ids, bad.mask, 3, 5, await embeds(bad.ids)), /./, 'a shape that does not fit is that run\'s error');
    const after = batch(1, 6);
    assert.equal((await session.forward(after.ids, after.mask, 1, 6, await embeds(after.ids))).hidden.length, 6 * got.dim, 'and the thread goes on');
  } finally {
    await session.release();
    await here.release();
    await rows.close();
  }
  const late = batch(1, 3);
  await assert.rejects(session.forward(late.ids, late.mask, 1, 3), /inference thread stopped/);
});
