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

import { closeSync, openSync, readFileSync, statSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fields, OnnxFormatError, readNode, readTensor, tensorValues, type TensorInfo } from './reader.js';
import { DataType, Msg, writeChunks } from './writer.js';
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
  const bytes = readFileSync(source);
  const modelFields = [...fields(bytes)];
  const graphField = modelFields.find((f) => f.field === 7);
  if (!graphField) throw new OnnxFormatError(`${source}: no graph`);
  const graphFields = [...fields(graphField.bytes)];
  const inits = new Map<string, TensorInfo>();
  for (const f of graphFields) {
    if (f.field !== 5) continue;
    const t = readTensor(f);
    inits.set(t.name, t);
  }
  const nodeFields = graphFields.filter((f) => f.field === 1);
  const nodes = nodeFields.map(readNode);
  const uses = new Map<string, number>();
  for (const n of nodes) for (const x of n.inputs) uses.set(x, (uses.get(x) ?? 0) + 1);

  const fd = openSync(join(dir, dataFile), 'w');
  let offset = 0;
  const fresh: Msg[] = [];
  const replaced = new Set<string>();
  const result: U8Result = { rewritten: {}, bytes: 0 };
  const write = (data: Uint8Array): number => {
    // 64-byte alignment, as onnxruntime aligns what it writes itself (and mmap likes it).
    const pad = (64 - (offset % 64)) % 64;
    if (pad > 0) writeSync(fd, new Uint8Array(pad));
    offset += pad;
    const at = offset;
    for (let off = 0; off < data.length;) off += writeSync(fd, data, off, data.length - off);
    offset += data.length;
    return at;
  };
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
    closeSync(fd);
  }
  if (Object.keys(result.rewritten).length === 0) throw new OnnxFormatError(`${basename(source)}: no integer matmul with int8 weights to rewrite`);

  const g = new Msg();
  let nodesWritten = false;
  for (const f of graphFields) {
    if (f.field === 1) {
      if (nodesWritten) continue;
      nodesWritten = true;
      for (const n of newNodes) {
        if (n instanceof Msg) g.msg(1, n);
        else g.raw(n);
      }
    } else if (f.field === 5) {
      const name = readTensor(f).name;
      if (!replaced.has(name)) g.raw(f.raw);
    } else {
      g.raw(f.raw);
    }
  }
  for (const m of fresh) g.msg(5, m);
  const model = new Msg();
  for (const f of modelFields) if (f.field !== 7) model.raw(f.raw);
  model.msg(7, g);
  writeChunks(target, model);
  if (statSync(join(dir, dataFile)).size !== offset) throw new OnnxFormatError(`${dataFile}: short write`);
  return result;
}
