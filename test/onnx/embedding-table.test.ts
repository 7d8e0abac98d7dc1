// Taking the word-embedding table out of a graph, for every lookup form the exports write:
// the rewritten graph fed the rows the engine reads gives exactly what the original gave.
// A graph whose lookup is not recognised keeps its table, and says why.

import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { EmbeddingRows } from '../../src/engine/embedding-rows.js';
import { ort } from '../../src/engine/onnx-session.js';
import { fillUniform, seededRandom } from '../fixture-models/random.js';
import { extractEmbeddingTable, INPUTS_EMBEDS } from '../../src/onnx/embedding-table.js';
import { DataType, writeModel, type Graph, type Node, type Tensor } from '../../src/onnx/writer.js';

const work = mkdtempSync(join(tmpdir(), 'ortos-emb-'));
after(() => rmSync(work, { recursive: true, force: true }));

const V = 12_000;
const H = 8;
const rand = seededRandom(7);
const values = fillUniform(new Float32Array(V * H), rand, 0.5);

/** A lookup, then something after it (Add of a bias) so the embeddings flow on into a graph. */
function graph(lookup: { nodes: Node[]; inits: Tensor[]; out: string }): Graph {
  return {
    name: 'g',
    nodes: [...lookup.nodes, { op: 'Add', name: 'after', inputs: [lookup.out, 'bias'], outputs: ['y'] }],
    initializers: [...lookup.inits, { name: 'bias', type: DataType.FLOAT, dims: [H], data: Float32Array.from({ length: H }, (_, i) => i / 10) }],
    inputs: [{ name: 'input_ids', type: DataType.INT64, dims: ['batch_size', 'sequence_length'] }],
    outputs: [{ name: 'y', type: DataType.FLOAT, dims: ['batch_size', 'sequence_length', H] }],
  };
}

function quantized(type: 'int8' | 'uint8'): { q: Int8Array | Uint8Array; scale: number; zp: number } {
  let max = 0;
  for (const v of values) max = Math.max(max, Math.abs(v));
  const scale = Math.fround(max / 127);
  const zp = type === 'int8' ? 0 : 128;
  const q = type === 'int8' ? new Int8Array(values.length) : new Uint8Array(values.length);
  for (let i = 0; i < values.length; i++) q[i] = Math.round(values[i] / scale) + zp;
  return { q, scale, zp };
}

const FORMS: Record<string, () => Graph> = {
  'fp32 Gather': () => graph({ nodes: [{ op: 'Gather', name: 'g', inputs: ['table', 'input_ids'], outputs: ['e'], attrs: { axis: 0 } }], inits: [{ name: 'table', type: DataType.FLOAT, dims: [V, H], data: values }], out: 'e' }),
  'int8 Gather → DequantizeLinear, per tensor': () => {
    const { q, scale } = quantized('int8');
    return graph({
      nodes: [{ op: 'Gather', name: 'g', inputs: ['table', 'input_ids'], outputs: ['gq'], attrs: { axis: 0 } }, { op: 'DequantizeLinear', name: 'dq', inputs: ['gq', 'scale', 'zp'], outputs: ['e'] }],
      inits: [{ name: 'table', type: DataType.INT8, dims: [V, H], data: q }, { name: 'scale', type: DataType.FLOAT, dims: [], data: Float32Array.of(scale) }, { name: 'zp', type: DataType.INT8, dims: [], data: new Int8Array(1) }],
      out: 'e',
    });
  },
  'uint8 Gather → DequantizeLinear with a zero point (Xenova\'s exports)': () => {
    const { q, scale, zp } = quantized('uint8');
    return graph({
      nodes: [{ op: 'Gather', name: 'g', inputs: ['table', 'input_ids'], outputs: ['gq'], attrs: { axis: 0 } }, { op: 'DequantizeLinear', name: 'dq', inputs: ['gq', 'scale', 'zp'], outputs: ['e'] }],
      inits: [{ name: 'table', type: DataType.UINT8, dims: [V, H], data: q }, { name: 'scale', type: DataType.FLOAT, dims: [], data: Float32Array.of(scale) }, { name: 'zp', type: DataType.UINT8, dims: [], data: Uint8Array.of(zp) }],
      out: 'e',
    });
  },
  'int8 Gather → DequantizeLinear, per column (axis 2)': () => {
    const { q } = quantized('int8');
    const scales = Float32Array.from({ length: H }, (_, i) => Math.fround(0.004 + i / 1000));
    return graph({
      nodes: [{ op: 'Gather', name: 'g', inputs: ['table', 'input_ids'], outputs: ['gq'], attrs: { axis: 0 } }, { op: 'DequantizeLinear', name: 'dq', inputs: ['gq', 'scale', 'zp'], outputs: ['e'], attrs: { axis: 2 } }],
      inits: [{ name: 'table', type: DataType.INT8, dims: [V, H], data: q }, { name: 'scale', type: DataType.FLOAT, dims: [H], data: scales }, { name: 'zp', type: DataType.INT8, dims: [H], data: new Int8Array(H) }],
      out: 'e',
    });
  },
  'QDQ: DequantizeLinear per row (axis 0), then Gather': () => {
    const { q } = quantized('int8');
    const scales = Float32Array.from({ length: V }, (_, i) => Math.fround(0.003 + (i % 17) / 2000));
    const zps = Int8Array.from({ length: V }, (_, i) => (i % 5) - 2);
    return graph({
      nodes: [{ op: 'DequantizeLinear', name: 'dq', inputs: ['table', 'scale', 'zp'], outputs: ['deq'], attrs: { axis: 0 } }, { op: 'Gather', name: 'g', inputs: ['deq', 'input_ids'], outputs: ['e'], attrs: { axis: 0 } }],
      inits: [{ name: 'table', type: DataType.INT8, dims: [V, H], data: q }, { name: 'scale', type: DataType.FLOAT, dims: [V], data: scales }, { name: 'zp', type: DataType.INT8, dims: [V], data: zps }],
      out: 'e',
    });
  },
};

const IDS = [[0, 5, 11_999, 7, 7, 3_000, 42], [1, 1, 2, 9_999, 6, 5, 4]];

async function run(path: string, feeds: Record<string, unknown>): Promise<Float32Array> {
  const o = await ort();
  const s = await o.InferenceSession.create(path);
  const out = await s.run(feeds as Parameters<typeof s.run>[0]);
  await s.release();
  return out.y.data as Float32Array;
}

for (const [name, make] of Object.entries(FORMS)) {
  test(`${name}: out of the graph, the rows read back give the same output exactly`, async () => {
    const o = await ort();
    const dir = join(work, name.replace(/[^a-z0-9]+/gi, '-'));
    mkdirSync(dir);
    const source = join(dir, 'source.onnx');
    writeModel(source, make(), { '': 14 });
    const r = extractEmbeddingTable(source, join(dir, 'rewritten.onnx'), 'rows.bin');
    assert.ok('table' in r, 'kept' in r ? r.kept : '');
    assert.ok(statSync(join(dir, 'rewritten.onnx')).size < 2048, 'the table left the graph');
    const ids = new o.Tensor('int64', BigInt64Array.from(IDS.flat().map(BigInt)), [2, 7]);
    const want = await run(source, { input_ids: ids });
    const rows = await EmbeddingRows.open(join(dir, 'rows.bin'), r.table, 64 * H);
    const embeds = await rows.lookup(ids.data as BigInt64Array);
    // Twice: the second lookup is served (partly) from the row cache.
    assert.deepEqual(await rows.lookup(ids.data as BigInt64Array), embeds);
    await rows.close();
    const got = await run(join(dir, 'rewritten.onnx'), { input_ids: ids, [INPUTS_EMBEDS]: new o.Tensor('float32', embeds, [2, 7, H]) });
    assert.deepEqual(Array.from(got), Array.from(want));
  });
}

test('an unrecognised lookup keeps its table and says why', () => {
  const dir = join(work, 'two-gathers');
  const g = FORMS['fp32 Gather']();
  g.nodes.push({ op: 'Gather', name: 'again', inputs: ['table', 'input_ids'], outputs: ['e2'], attrs: { axis: 0 } });
  mkdirSync(dir);
  writeModel(join(dir, 'source.onnx'), g, { '': 14 });
  const r = extractEmbeddingTable(join(dir, 'source.onnx'), join(dir, 'rewritten.onnx'), 'rows.bin');
  assert.deepEqual(r, { kept: '2 Gathers of input_ids (one word-embedding lookup expected)' });
});
