// Runs extreme integer matmuls — every form the prepared int8 graph contains (MatMulInteger,
// and onnxruntime's fused MatMulIntegerToFloat and DynamicQuantizeMatMul) — through the
// project's own choice of int8 weights and session options, and prints what came out next to
// exact integer arithmetic. A test runs it here and under an emulated CPU without VNNI.
//
//   node build/test/helpers/int8-kernel-check.js [auto|s8|u8]   → one JSON line

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chooseInt8Weights, int8Kernels, INT8_WEIGHTS, type Int8Weights } from '../../src/engine/int8-kernels.js';
import { OnnxSession, ort } from '../../src/engine/onnx-session.js';
import { rewriteWeightsToU8 } from '../../src/onnx/to-u8-weights.js';
import { DataType, writeModel, type Graph } from '../../src/onnx/writer.js';

const K = 64;
const N = 2;

export interface CheckResult {
  op: string;
  got: number;
  want: number;
}

/** u8 255 (or floats that quantize to 255) against int8 127 in every column: the worst case for 16-bit pairs. */
function graphs(): Array<{ op: string; graph: Graph; feed: 'u8' | 'f32'; want: number }> {
  const w = { name: 'w', type: DataType.INT8, dims: [K, N], data: new Int8Array(K * N).fill(127) };
  const wz = { name: 'w_zero_point', type: DataType.INT8, dims: [], data: new Int8Array(1) };
  const one = (name: string): { name: string; type: 1; dims: number[]; data: Float32Array } => ({ name, type: DataType.FLOAT, dims: [], data: Float32Array.of(1) });
  const exact = K * 255 * 127;
  return [
    {
      op: 'MatMulInteger',
      feed: 'u8',
      want: exact,
      graph: {
        name: 'g',
        nodes: [{ op: 'MatMulInteger', name: 'mm', inputs: ['a', 'w', 'a_zero_point', 'w_zero_point'], outputs: ['y'] }],
        initializers: [w, wz, { name: 'a_zero_point', type: DataType.UINT8, dims: [], data: new Uint8Array(1) }],
        inputs: [{ name: 'a', type: DataType.UINT8, dims: [1, K] }],
        outputs: [{ name: 'y', type: DataType.INT32, dims: [1, N] }],
      },
    },
    {
      op: 'MatMulIntegerToFloat',
      feed: 'u8',
      want: exact,
      graph: {
        name: 'g',
        nodes: [{ op: 'MatMulIntegerToFloat', domain: 'com.microsoft', name: 'mm', inputs: ['a', 'w', 'a_scale', 'w_scale', 'a_zero_point', 'w_zero_point'], outputs: ['y'] }],
        initializers: [w, wz, one('a_scale'), one('w_scale'), { name: 'a_zero_point', type: DataType.UINT8, dims: [], data: new Uint8Array(1) }],
        inputs: [{ name: 'a', type: DataType.UINT8, dims: [1, K] }],
        outputs: [{ name: 'y', type: DataType.FLOAT, dims: [1, N] }],
      },
    },
    {
      // Floats of 1 quantize dynamically to 255 with scale 1/255: the result is K · 127.
      op: 'DynamicQuantizeMatMul',
      feed: 'f32',
      want: K * 127,
      graph: {
        name: 'g',
        nodes: [{ op: 'DynamicQuantizeMatMul', domain: 'com.microsoft', name: 'mm', inputs: ['a', 'w', 'w_scale', 'w_zero_point'], outputs: ['y'] }],
        initializers: [w, wz, one('w_scale')],
        inputs: [{ name: 'a', type: DataType.FLOAT, dims: [1, K] }],
        outputs: [{ name: 'y', type: DataType.FLOAT, dims: [1, N] }],
      },
    },
  ];
}

export async function checkInt8Kernels(setting: Int8Weights): Promise<{ weights: string; u8s8Exact: boolean; results: CheckResult[] }> {
  const o = await ort();
  const choice = chooseInt8Weights(setting, await int8Kernels(o));
  const dir = mkdtempSync(join(tmpdir(), 'ortos-int8-check-'));
  const results: CheckResult[] = [];
  try {
    for (const g of graphs()) {
      const path = join(dir, `${g.op}.onnx`);
      writeModel(path, g.graph, { '': 14, 'com.microsoft': 1 });
      rewriteWeightsToU8(path, join(dir, `${g.op}.u8.onnx`), `${g.op}.u8.onnx.data`);
      // The session options the engine uses for every model (onnx-session.ts), on the graph the project chose.
      const session = await OnnxSession.create(choice.weights === 'u8' ? join(dir, `${g.op}.u8.onnx`) : path, 1);
      const feed = g.feed === 'u8' ? new o.Tensor('uint8', new Uint8Array(K).fill(255), [1, K]) : new o.Tensor('float32', new Float32Array(K).fill(1), [1, K]);
      const out = await session.run({ a: feed });
      const y = Array.from(out.y.data as ArrayLike<number>);
      await session.release();
      for (const v of y) results.push({ op: g.op, got: Number(v), want: g.want });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return { weights: choice.weights, u8s8Exact: choice.exact && choice.weights === 's8', results };
}

if (process.argv[1]?.endsWith('int8-kernel-check.js')) {
  const setting = (process.argv[2] ?? 'auto') as Int8Weights;
  if (!INT8_WEIGHTS.includes(setting)) throw new Error(`usage: int8-kernel-check.js [${INT8_WEIGHTS.join('|')}]`);
  process.stdout.write(JSON.stringify(await checkInt8Kernels(setting)) + '\n');
}
