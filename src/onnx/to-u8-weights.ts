// The int8 graph with its integer-matmul weights re-expressed as uint8, for x86 CPUs without
// VNNI. There, onnxruntime's u8×s8 kernels add pairs of products in 16 bits with saturation
// (onnxruntime_session_options_config_keys.h, `session.x64quantprecision`); with uint8 weights
// it takes its u8×u8 kernels, which widen to 16 bits first and are exact. This is what
// onnxruntime's own Avx2WeightS8ToU8Transformer does when that option is set, but that
// transformer only runs with graph optimizations on (measured: with the prepared graph loaded
// at level "disabled", the option changes nothing), and only on the CPU that loads the model;
// done here once, at prepare time, the result is a graph that memory-maps like the default one.
//
// w_u8 = w_s8 + 128 and zp_u8 = zp_s8 + 128, so (w_u8 − zp_u8) = (w_s8 − zp_s8): the same
// integers, the same products. Only the rewritten weights are written to a new data file; every
// other tensor keeps pointing into the original one, so the extra disk is the encoder weights'.

import { statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { OnnxFormatError, tensorValues, type TensorInfo } from './reader.js';
import { AlignedData, GRAPH, openModelOrThrow, writeEdited } from './rewrite.js';
import { DataType, Msg } from './writer.js';
import { withInputs } from './node-edit.js';

/** Where the weight (B) and its zero point sit among each op's inputs. */
const WEIGHT_SLOTS: Record<string, { b: number; zp: number }> = {
  MatMulInteger: { b: 1, zp: 3 },
  // com.microsoft: A, B, a_scale, b_scale, a_zero_point, b_zero_point, bias
  MatMulIntegerToFloat: { b: 1, zp: 5 },
  // com.microsoft: A, B, b_scale, b_zero_point, bias
  DynamicQuantizeMatMul: { b: 1, zp: 3 },
};

export interface U8Result {
  /** Nodes whose weights became uint8, by op. */
  rewritten: Record<string, number>;
  /** Bytes written to the new data file. */
  bytes: number;
}

function externalTensorMsg(name: string, type: number, dims: number[], location: string, offset: number, length: number): Msg {
  const m = new Msg();
  for (const d of dims) m.int(1, d);
  m.int(2, type).string(8, name);
  for (const [k, v] of [['location', location], ['offset', String(offset)], ['length', String(length)]]) m.msg(13, new Msg().string(1, k).string(2, v));
  return m.int(14, 1);
}

/**
 * Writes `target` (next to `source`, sharing its external data) with uint8 weights and zero
 * points for every integer matmul whose weight is an int8 initializer; their bytes go to
 * `dataFile` (a name relative to the graph's folder).
 */
export function rewriteWeightsToU8(source: string, target: string, dataFile: string): U8Result {
  const dir = dirname(source);
  if (dirname(target) !== dir) throw new OnnxFormatError('the u8 graph must sit beside the graph it shares data with');
  const m = openModelOrThrow(source);
  const { nodeFields, nodes, inits } = m;
  const uses = new Map<string, number>();
  for (const n of nodes) for (const x of n.inputs) uses.set(x, (uses.get(x) ?? 0) + 1);

  const file = new AlignedData(join(dir, dataFile));
  const fresh: Msg[] = [];
  const replaced = new Set<string>();
  const result: U8Result = { rewritten: {}, bytes: 0 };
  const write = (data: Uint8Array): number => file.append(data);
  const newNodes: Array<Uint8Array | Msg> = [];  // as they were, or rewritten
  try {
    nodes.forEach((node, i) => {
      const slot = WEIGHT_SLOTS[node.op];
      const w = slot ? inits.get(node.inputs[slot.b] ?? '') : undefined;
      const zpName = slot ? node.inputs[slot.zp] ?? '' : '';
      const zp = zpName !== '' ? inits.get(zpName) : undefined;
      if (!slot || !w || w.dataType !== DataType.INT8 || (zpName !== '' && (!zp || zp.dataType !== DataType.INT8))) {
        newNodes.push(nodeFields[i].raw);
        return;
      }
      const shift = (t: TensorInfo | undefined, count: number): Uint8Array => {
        const v = t ? (tensorValues(t, dir) as Int8Array) : new Int8Array(count);
        const out = new Uint8Array(v.length);
        for (let j = 0; j < v.length; j++) out[j] = v[j] + 128;
        return out;
      };
      const wName = `${w.name}.u8`;
      const wData = shift(w, 0);
      fresh.push(externalTensorMsg(wName, DataType.UINT8, w.dims, dataFile, write(wData), wData.length));
      const zName = `${node.name || w.name}.b_zero_point.u8`;
      const zData = shift(zp, 1);
      fresh.push(externalTensorMsg(zName, DataType.UINT8, zp?.dims ?? [], dataFile, write(zData), zData.length));
      result.bytes += wData.length + zData.length;
      const inputs = node.inputs.slice();
      while (inputs.length <= slot.zp) inputs.push('');
      inputs[slot.b] = wName;
      inputs[slot.zp] = zName;
      for (const old of [w.name, zpName]) {
        if (old === '') continue;
        uses.set(old, (uses.get(old) ?? 1) - 1);
        if (uses.get(old) === 0) replaced.add(old);
      }
      newNodes.push(withInputs(nodeFields[i], inputs));
      result.rewritten[node.op] = (result.rewritten[node.op] ?? 0) + 1;
    });
  } finally {
    file.close();
  }
  if (Object.keys(result.rewritten).length === 0) throw new OnnxFormatError(`${basename(source)}: no integer matmul with int8 weights to rewrite`);

  writeEdited(m, target, {
    nodes(g) {
      for (const n of newNodes) {
        if (n instanceof Msg) g.msg(GRAPH.node, n);
        else g.raw(n);
      }
    },
    keepInitializer: (t) => !replaced.has(t.name),
    append(g) {
      for (const t of fresh) g.msg(GRAPH.initializer, t);
    },
  });
  if (statSync(join(dir, dataFile)).size !== file.size) throw new OnnxFormatError(`${dataFile}: short write`);
  return result;
}
