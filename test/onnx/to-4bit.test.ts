// The rewrite checked against onnxruntime itself: if the packing of codes, scales or zero
// points differed from what MatMulNBits reads, the outputs would not match the weights the
// quantizer says it stored.

import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { dequantize4bit, quantize4bit } from '../../src/onnx/block-quant.js';
import { fields, readNode } from '../../src/onnx/reader.js';
import { rewriteTo4Bit } from '../../src/onnx/to-4bit.js';
import { DataType, writeModel, type Node, type Tensor } from '../../src/onnx/writer.js';

const K = 64;
const N = 8;

function weights(): Float32Array {
  return Float32Array.from({ length: K * N }, (_, i) => Math.sin(i * 0.37) * 0.1 + ((i * 7919) % 13) / 400);
}

function ops(path: string): string[] {
  const model = [...fields(readFileSync(path))].find((f) => f.field === 7)!;
  return [...fields(model.bytes)].filter((f) => f.field === 1).map((f) => readNode(f).op);
}

async function run(path: string, a: Float32Array, rows: number): Promise<Float32Array> {
  const s = await ort.InferenceSession.create(path);
  const out = await s.run({ a: new ort.Tensor('float32', a, [rows, K]) });
  await s.release();
  return out.y.data as Float32Array;
}

function matmul(a: Float32Array, w: Float32Array, rows: number): Float32Array {
  const y = new Float32Array(rows * N);
  for (let r = 0; r < rows; r++) for (let c = 0; c < N; c++) for (let k = 0; k < K; k++) y[r * N + c] += a[r * K + k] * w[k * N + c];
  return y;
}

function graphWith(nodes: Node[], initializers: Tensor[]): Parameters<typeof writeModel>[1] {
  return {
    name: 'g',
    nodes,
    initializers,
    inputs: [{ name: 'a', type: DataType.FLOAT, dims: ['rows', K] }],
    outputs: [{ name: 'y', type: DataType.FLOAT, dims: ['rows', N] }],
  };
}

test('fp32 MatMul → MatMulNBits: onnxruntime computes exactly with the weights the quantizer stored', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ortos-q4-'));
  try {
    const w = weights();
    writeModel(join(dir, 'fp32.onnx'), graphWith([{ op: 'MatMul', name: 'mm', inputs: ['a', 'w'], outputs: ['y'] }], [{ name: 'w', type: DataType.FLOAT, dims: [K, N], data: w }]), { '': 17 });
    const r = rewriteTo4Bit(join(dir, 'fp32.onnx'), join(dir, 'q4.onnx'), { blockSize: 32, accuracyLevel: 0 });
    assert.equal(r.rewritten, 1);
    assert.deepEqual(ops(join(dir, 'q4.onnx')), ['MatMulNBits']);
    assert.equal(r.bytesAfter, N * 2 * 16 + N * 2 * 4 + N, 'codes + scales + zero points');
    const rows = 3;
    const a = Float32Array.from({ length: rows * K }, (_, i) => Math.cos(i * 0.11));
    const got = await run(join(dir, 'q4.onnx'), a, rows);
    const want = matmul(a, dequantize4bit(quantize4bit(w, K, N, 32)), rows);
    for (let i = 0; i < want.length; i++) assert.ok(Math.abs(got[i] - want[i]) < 1e-4, `y[${i}] ${got[i]} vs ${want[i]}`);
    const exact = matmul(a, w, rows);
    assert.ok(Math.abs(got[0] - exact[0]) > 0, 'and the 4-bit weights do differ from the original ones');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the int8 pattern (DynamicQuantizeLinear → MatMulInteger → Cast → Mul) becomes one MatMulNBits; the rest is kept', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ortos-q4-'));
  try {
    const w = weights();
    let absMax = 0;
    for (const v of w) absMax = Math.max(absMax, Math.abs(v));
    const ws = Math.fround(absMax / 127);
    const wq = Int8Array.from(w, (v) => Math.round(v / ws));
    const nodes: Node[] = [
      { op: 'DynamicQuantizeLinear', name: 'dql', inputs: ['a'], outputs: ['aq', 'as', 'az'] },
      { op: 'MatMulInteger', name: 'mmi', inputs: ['aq', 'wq', 'az', 'wz'], outputs: ['acc'] },
      { op: 'Cast', name: 'cast', inputs: ['acc'], outputs: ['accf'], attrs: { to: DataType.FLOAT } },
      { op: 'Mul', name: 'scales', inputs: ['as', 'ws'], outputs: ['s'] },
      { op: 'Mul', name: 'deq', inputs: ['accf', 's'], outputs: ['mm'] },
      { op: 'Add', name: 'bias', inputs: ['mm', 'b'], outputs: ['y'] },
    ];
    const inits: Tensor[] = [
      { name: 'wq', type: DataType.INT8, dims: [K, N], data: wq },
      { name: 'wz', type: DataType.INT8, dims: [], data: new Int8Array(1) },
      { name: 'ws', type: DataType.FLOAT, dims: [], data: Float32Array.of(ws) },
      { name: 'b', type: DataType.FLOAT, dims: [N], data: Float32Array.from({ length: N }, (_, i) => i / 10) },
    ];
    writeModel(join(dir, 'int8.onnx'), graphWith(nodes, inits), { '': 17 });
    const r = rewriteTo4Bit(join(dir, 'int8.onnx'), join(dir, 'q4.onnx'), { blockSize: 16, accuracyLevel: 0 });
    assert.equal(r.rewritten, 1);
    assert.deepEqual(r.leftAlone, []);
    assert.deepEqual(ops(join(dir, 'q4.onnx')), ['MatMulNBits', 'Add'], 'the quantize, cast and scale nodes are gone');
    const rows = 2;
    const a = Float32Array.from({ length: rows * K }, (_, i) => Math.sin(i * 0.05));
    const got = await run(join(dir, 'q4.onnx'), a, rows);
    const deq = Float32Array.from(wq, (v) => v * ws);
    const want = matmul(a, dequantize4bit(quantize4bit(deq, K, N, 16)), rows).map((v, i) => v + (i % N) / 10);
    for (let i = 0; i < want.length; i++) assert.ok(Math.abs(got[i] - want[i]) < 1e-4, `y[${i}] ${got[i]} vs ${want[i]}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('weights in an external data file (as prepare writes them) are read from their range', async () => {
  const { optimizeModel } = await import('../../src/engine/onnx-session.js');
  const dir = mkdtempSync(join(tmpdir(), 'ortos-q4-'));
  try {
    const w = weights();
    writeModel(join(dir, 'inline.onnx'), graphWith([{ op: 'MatMul', name: 'mm', inputs: ['a', 'w'], outputs: ['y'] }], [{ name: 'w', type: DataType.FLOAT, dims: [K, N], data: w }]), { '': 17 });
    await optimizeModel(join(dir, 'inline.onnx'), join(dir, 'external.onnx'), 'external.onnx.data');
    assert.ok(readFileSync(join(dir, 'external.onnx')).length < K * N * 4, 'the weight left the graph file');
    rewriteTo4Bit(join(dir, 'external.onnx'), join(dir, 'q4.onnx'), { blockSize: 32, accuracyLevel: 0 });
    const a = Float32Array.from({ length: K }, (_, i) => Math.cos(i * 0.3));
    const got = await run(join(dir, 'q4.onnx'), a, 1);
    const want = matmul(a, dequantize4bit(quantize4bit(w, K, N, 32)), 1);
    for (let i = 0; i < want.length; i++) assert.ok(Math.abs(got[i] - want[i]) < 1e-4, `y[${i}] ${got[i]} vs ${want[i]}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a graph with no weight MatMul is refused with a reason', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ortos-q4-'));
  try {
    writeModel(join(dir, 'relu.onnx'), { ...graphWith([{ op: 'Relu', name: 'r', inputs: ['a'], outputs: ['y'] }], []), outputs: [{ name: 'y', type: DataType.FLOAT, dims: ['rows', K] }] }, { '': 17 });
    assert.throws(() => rewriteTo4Bit(join(dir, 'relu.onnx'), join(dir, 'q4.onnx'), { blockSize: 32, accuracyLevel: 0 }), /no weight MatMul found/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
