// Which int8 kernels this CPU gives us, asked of onnxruntime itself. On x86 without VNNI its
// u8×s8 kernels add pairs of products in 16 bits with saturation (255·127·2 > 32767); with
// VNNI, and off x86, they are exact. The CPU's flags would usually tell, but not always (under
// qemu-user /proc/cpuinfo shows the host's flags while the emulated CPU has no VNNI; a VM may
// hide features), so one extreme MatMulInteger is run and its answer compared with the exact
// one. It costs nothing measurable on the wake path: the first session pays onnxruntime's
// start-up either way (133–170 ms to a loaded e5-base session with or without it, one core).

import { DataType, modelBytes, type Graph } from '../onnx/writer.js';
import type { OrtModule } from './onnx-session.js';

export type Int8Weights = 'auto' | 's8' | 'u8';
export const INT8_WEIGHTS: readonly Int8Weights[] = ['auto', 's8', 'u8'];

export interface Int8Kernels {
  /** u8×s8 products are exact on this CPU. */
  u8s8Exact: boolean;
  /** K × (255 × 127) through MatMulInteger: what came out, and what is exact. */
  probe: { got: number; want: number };
}

export interface Int8Choice {
  /** Weights of the graph in use: int8 (u8×s8 kernels) or re-expressed as uint8 (u8×u8 kernels). */
  weights: 's8' | 'u8';
  exact: boolean;
  reason: string;
}

const K = 64;

/** One MatMulInteger, u8 activations of 255 against K s8 weights of 127. */
export function probeGraph(): Graph {
  return {
    name: 'int8_probe',
    nodes: [{ op: 'MatMulInteger', inputs: ['a', 'w', 'a_zero_point', 'w_zero_point'], outputs: ['y'], name: 'probe' }],
    initializers: [
      { name: 'w', type: DataType.INT8, dims: [K, 1], data: new Int8Array(K).fill(127) },
      { name: 'a_zero_point', type: DataType.UINT8, dims: [], data: new Uint8Array(1) },
      { name: 'w_zero_point', type: DataType.INT8, dims: [], data: new Int8Array(1) },
    ],
    inputs: [{ name: 'a', type: DataType.UINT8, dims: [1, K] }],
    outputs: [{ name: 'y', type: DataType.INT32, dims: [1, 1] }],
  };
}

let cached: Promise<Int8Kernels> | null = null;

export function int8Kernels(ort: OrtModule): Promise<Int8Kernels> {
  cached ??= (async () => {
    const session = await ort.InferenceSession.create(modelBytes(probeGraph(), { '': 14 }), {
      executionProviders: ['cpu'],
      graphOptimizationLevel: 'disabled',
      intraOpNumThreads: 1,
      interOpNumThreads: 1,
      logSeverityLevel: 3,
    });
    try {
      const out = await session.run({ a: new ort.Tensor('uint8', new Uint8Array(K).fill(255), [1, K]) });
      const got = Number((out.y.data as Int32Array)[0]);
      const want = K * 255 * 127;
      return { u8s8Exact: got === want, probe: { got, want } };
    } finally {
      await session.release();
    }
  })();
  return cached;
}

/** 1,040,640: not toLocaleString, whose first call pages in ~7 MB of ICU locale data at wake. */
const grouped = (n: number): string => String(n).replace(/\B(?=(\d{3})+$)/g, ',');

export function chooseInt8Weights(setting: Int8Weights, kernels: Int8Kernels): Int8Choice {
  const probe = `${grouped(kernels.probe.got)} for ${grouped(kernels.probe.want)}`;
  if (setting === 'u8') return { weights: 'u8', exact: true, reason: 'uint8 weights (u8×u8 kernels) as asked' };
  if (setting === 's8') {
    return kernels.u8s8Exact
      ? { weights: 's8', exact: true, reason: 'int8 weights as asked; u8×s8 is exact on this CPU' }
      : { weights: 's8', exact: false, reason: `int8 weights as asked, though u8×s8 saturates on this CPU (probe ${probe}): vectors are off` };
  }
  return kernels.u8s8Exact
    ? { weights: 's8', exact: true, reason: 'u8×s8 is exact on this CPU (VNNI, or not x86)' }
    : { weights: 'u8', exact: true, reason: `u8×s8 saturates on this CPU (probe ${probe}, no VNNI): uint8 weights, exact u8×u8 kernels` };
}
