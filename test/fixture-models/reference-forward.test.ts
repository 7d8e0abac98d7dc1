// The generated graph is the architecture we think it is: onnxruntime's output for the tiny
// fixture equals an independent forward pass in plain TypeScript, before and after `prepare`.

import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { OnnxSession } from '../../src/engine/onnx-session.js';
import { PREPARED_FILES, readManifest, U8_FILES } from '../../src/model/manifest.js';
import { EmbeddingRows } from '../../src/engine/embedding-rows.js';
import { preparedFixture } from '../helpers/models.js';
import { FIXTURE_SEED, onnxFileFor, shapeOf, type FixtureSize } from './generate.js';
import { referenceForward, type ReferenceMode } from './reference-forward.js';
import { randomWeights, type XlmrWeights } from './xlmr-weights.js';

const weightsOf = new Map<FixtureSize, XlmrWeights>();
const weights = (size: FixtureSize): XlmrWeights => {
  let w = weightsOf.get(size);
  if (!w) weightsOf.set(size, (w = randomWeights(shapeOf(size), FIXTURE_SEED)));
  return w;
};
const sequences = [
  [0, 4541, 8, 208, 70514, 6, 184166, 2],
  [0, 17, 2],
  [0, 250001, 3, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 2],
];

/** A graph file, and for a prepared one its word-embedding rows (they are an input there). */
async function open(path: string): Promise<{ session: OnnxSession; rows?: EmbeddingRows }> {
  const session = await OnnxSession.load(path, { threads: 1 });
  const m = session.takesEmbeddings ? readManifest(dirname(path)) : null;
  return { session, rows: m?.embeddings ? await EmbeddingRows.open(join(dirname(path), m.embeddings.file), m.embeddings.table) : undefined };
}

async function maxDiff({ session, rows }: { session: OnnxSession; rows?: EmbeddingRows }, ids: number[], mode: ReferenceMode = 'fp32', w: XlmrWeights = weights('tiny')): Promise<number> {
  const n = ids.length;
  const idTensor = BigInt64Array.from(ids.map(BigInt));
  const { hidden } = await session.forward(idTensor, new BigInt64Array(n).fill(1n), 1, n, rows ? await rows.lookup(idTensor) : undefined);
  const want = referenceForward(w, ids, mode);
  let worst = 0;
  for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(hidden[i] - want[i]));
  return worst;
}

test('tiny fp32 graph equals the TypeScript reference forward pass (max abs diff ≤ 1e-4)', async () => {
  const { modelDir, preparedDir } = await preparedFixture('tiny', 'fp32');
  for (const path of [join(modelDir, 'onnx', onnxFileFor('fp32')), join(preparedDir, PREPARED_FILES.model)]) {
    const opened = await open(path);
    assert.equal(opened.rows !== undefined, path.includes('ortos-prepared'), 'prepared graphs take the looked-up rows');
    for (const ids of sequences) {
      const d = await maxDiff(opened, ids);
      assert.ok(d <= 1e-4, `${path}: max abs diff ${d}`);
    }
    await opened.session.release();
    await opened.rows?.close();
  }
});

test('tiny int8 graph — the export, the prepared graph and its uint8-weight form — equals the exact int8 reference (max abs diff ≤ 2e-5)', async () => {
  const { modelDir, preparedDir } = await preparedFixture('tiny', 'int8');
  for (const path of [join(modelDir, 'onnx', onnxFileFor('int8')), join(preparedDir, PREPARED_FILES.model), join(preparedDir, U8_FILES.model)]) {
    const opened = await open(path);
    for (const ids of sequences) {
      const d = await maxDiff(opened, ids, 'int8');
      assert.ok(d <= 2e-5, `${path}: max abs diff ${d} from the int8 reference (measured 4e-6)`);
      // And the fp32 reference differs by the quantization error, which is not nothing.
      assert.ok((await maxDiff(opened, ids)) > 1e-3);
    }
    await opened.session.release();
    await opened.rows?.close();
  }
});

test('the BERT layout (multilingual-e5-small\'s: positions from 0, token type ids) equals the reference too, fp32 and int8', async () => {
  for (const dtype of ['fp32', 'int8'] as const) {
    const { modelDir, preparedDir } = await preparedFixture('tiny-bert', dtype);
    for (const path of [join(modelDir, 'onnx', onnxFileFor(dtype)), join(preparedDir, PREPARED_FILES.model)]) {
      const opened = await open(path);
      assert.ok(opened.session.io.inputs.includes('token_type_ids'));
      for (const ids of sequences) {
        const w = weights('tiny-bert');
        const d = await maxDiff(opened, ids, dtype, w);
        assert.ok(d <= (dtype === 'fp32' ? 1e-4 : 2e-5), `${path}: max abs diff ${d}`);
        // The same weights with XLM-R's numbering of positions give another answer.
        assert.ok((await maxDiff(opened, ids, dtype, { ...w, shape: { ...w.shape, arch: 'xlmr', padId: 1 } })) > 1e-3);
      }
      await opened.session.release();
      await opened.rows?.close();
    }
  }
});
