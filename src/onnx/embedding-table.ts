// Takes the word-embedding table out of a graph. The 250002 × 768 table is 69% of an e5-base
// model's weights; memory-mapped with the rest, every row a request touches pulls a page and
// its readahead (up to megabytes) off the disk, and the pages stay in the process's RSS. Out
// of the graph, the engine reads exactly the rows a batch needs (engine/embedding-rows.ts)
// and hands them in as an input.
//
// The lookups the exports write, all recognised:
//   fp32 table:                Gather(table, input_ids)
//   int8/uint8 table:          Gather(table_q, input_ids) → DequantizeLinear(scale, zero_point)
//                              with a per-tensor scale, or per column (axis = last)
//   per-row (QDQ) table:       DequantizeLinear(table_q, scales[V], zero_points[V], axis=0) → Gather
// (optimum / sentence-transformers' dynamic int8 export and onnxruntime's quantize_dynamic write
// the second; Xenova's exports the second with uint8; static QDQ exports the third). The
// lookup's output becomes the graph input `inputs_embeds`; `input_ids` stays (positions come
// from it). A graph with none of these keeps its table, and the reason is returned.

import { dirname, join } from 'node:path';
import { elementCount, tensorValues, type NodeInfo, type TensorInfo } from './reader.js';
import { AlignedData, GRAPH, openModel, writeEdited } from './rewrite.js';
import { DataType, Msg } from './writer.js';
import { withInputs } from './node-edit.js';

export const INPUTS_EMBEDS = 'inputs_embeds';

/** What the row file holds and how a row becomes floats. */
export interface EmbeddingTable {
  /** Rows × dim values of `type`, row after row, from byte 0 of the file. */
  rows: number;
  dim: number;
  type: 'float32' | 'int8' | 'uint8';
  /** float = (q − zeroPoint) × scale: one value for the table, or one per column. */
  scale?: number | number[];
  zeroPoint?: number | number[];
  /** Per-row scales and zero points instead, stored after the rows (float32, then int32). */
  perRow?: { scalesAt: number; zeroPointsAt: number };
}

export type ExtractResult = { table: EmbeddingTable } | { kept: string };

const TABLE_MIN_ROWS = 10_000;

function copyBytes(t: TensorInfo, dir: string): Uint8Array {
  const v = tensorValues(t, dir);
  return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
}

function scalarOrList(values: ArrayLike<number>): number | number[] {
  return values.length === 1 ? values[0] : Array.from(values);
}

function valueInfoMsg(name: string, dim: number): Msg {
  const shape = new Msg()
    .msg(1, new Msg().string(2, 'batch_size'))
    .msg(1, new Msg().string(2, 'sequence_length'))
    .msg(1, new Msg().int(1, dim));
  return new Msg().string(1, name).msg(2, new Msg().msg(1, new Msg().int(1, DataType.FLOAT).msg(2, shape)));
}

/**
 * Writes `target` without the lookup and the table to `tableFile` beside it. Initializers stay
 * in the graph; external ones are refused unless the target sits beside the source.
 */
export function extractEmbeddingTable(source: string, target: string, tableFile: string): ExtractResult {
  const dir = dirname(source);
  const outDir = dirname(target);
  const m = openModel(source);
  if (m === null) return { kept: 'the file has no graph' };
  const { nodeFields, nodes, inits } = m;
  const consumers = (name: string): NodeInfo[] => nodes.filter((n) => n.inputs.includes(name));
  const isBigTable = (t: TensorInfo | undefined): t is TensorInfo => t !== undefined && t.dims.length === 2 && t.dims[0] >= TABLE_MIN_ROWS;

  if (outDir !== dir && [...inits.values()].some((t) => t.payload?.kind === 'external')) return { kept: 'the graph keeps weights in an external file' };
  const gathers = nodes.filter((n) => n.op === 'Gather' && (n.domain === '' || n.domain === 'ai.onnx') && n.inputs[1] === 'input_ids' && (n.ints.axis ?? 0) === 0);
  if (gathers.length === 0) return { kept: 'no Gather of input_ids found' };
  if (gathers.length > 1) return { kept: `${gathers.length} Gathers of input_ids (one word-embedding lookup expected)` };
  const gather = gathers[0];

  let table: EmbeddingTable;
  let data: Uint8Array;
  let extra: Uint8Array[] = [];
  let out: string;
  const drop = new Set<NodeInfo>([gather]);
  const dropInits = new Set<string>();
  const direct = inits.get(gather.inputs[0]);
  if (isBigTable(direct)) {
    const [rows, dim] = direct.dims;
    const after = consumers(gather.outputs[0]);
    const dq = after.length === 1 && after[0].op === 'DequantizeLinear' ? after[0] : null;
    if (direct.dataType === DataType.FLOAT) {
      table = { rows, dim, type: 'float32' };
      out = gather.outputs[0];
    } else if ((direct.dataType === DataType.INT8 || direct.dataType === DataType.UINT8) && dq) {
      const scale = inits.get(dq.inputs[1]);
      const zp = dq.inputs[2] ? inits.get(dq.inputs[2]) : undefined;
      if (!scale || scale.dataType !== DataType.FLOAT) return { kept: 'the DequantizeLinear after the table has no constant scale' };
      if (dq.inputs[2] && !zp) return { kept: 'the DequantizeLinear after the table has no constant zero point' };
      const n = elementCount(scale);
      const axis = dq.ints.axis ?? 1;
      if (n !== 1 && !(n === dim && (axis === -1 || axis === 2))) return { kept: `the table's scale has ${n} values along axis ${axis} (per-tensor or per-column expected after the Gather)` };
      table = {
        rows, dim, type: direct.dataType === DataType.INT8 ? 'int8' : 'uint8',
        scale: scalarOrList(tensorValues(scale, dir) as Float32Array),
        zeroPoint: zp ? scalarOrList(tensorValues(zp, dir)) : 0,
      };
      out = dq.outputs[0];
      drop.add(dq);
    } else {
      return { kept: `the table is of ONNX type ${direct.dataType} without a DequantizeLinear after it` };
    }
    data = copyBytes(direct, dir);
    dropInits.add(direct.name);
  } else {
    // QDQ: the table is dequantized per row first, then gathered.
    const dq = nodes.find((n) => n.outputs.includes(gather.inputs[0]) && n.op === 'DequantizeLinear');
    const q = dq ? inits.get(dq.inputs[0]) : undefined;
    if (!dq || !isBigTable(q) || (q.dataType !== DataType.INT8 && q.dataType !== DataType.UINT8) || consumers(gather.inputs[0]).length !== 1) {
      return { kept: 'the Gather of input_ids does not read a word-embedding table in a known form' };
    }
    const [rows, dim] = q.dims;
    const scale = inits.get(dq.inputs[1]);
    const zp = dq.inputs[2] ? inits.get(dq.inputs[2]) : undefined;
    if (!scale || scale.dataType !== DataType.FLOAT || (elementCount(scale) !== rows && elementCount(scale) !== 1)) return { kept: 'the table\'s DequantizeLinear scale is neither per row nor per tensor' };
    const scales = tensorValues(scale, dir) as Float32Array;
    const zps = zp ? tensorValues(zp, dir) : new Int8Array(scales.length);
    table = { rows, dim, type: q.dataType === DataType.INT8 ? 'int8' : 'uint8' };
    data = copyBytes(q, dir);
    if (scales.length === 1) {
      table.scale = scales[0];
      table.zeroPoint = zps[0];
    } else {
      const zpInts = Int32Array.from(zps);
      table.perRow = { scalesAt: 0, zeroPointsAt: 0 };
      extra = [new Uint8Array(scales.buffer, scales.byteOffset, scales.byteLength), new Uint8Array(zpInts.buffer)];
    }
    out = gather.outputs[0];
    drop.add(dq);
    dropInits.add(q.name);
  }

  // The row file: rows, then (per-row tables) scales and zero points.
  const file = new AlignedData(join(outDir, tableFile));
  try {
    file.append(data);
    if (table.perRow) {
      table.perRow.scalesAt = file.append(extra[0]);
      table.perRow.zeroPointsAt = file.append(extra[1]);
    }
  } finally {
    file.close();
  }

  // The graph without the lookup: its output is the new input `inputs_embeds`.
  writeEdited(m, target, {
    nodes(g) {
      nodeFields.forEach((nf, i) => {
        const n = nodes[i];
        if (drop.has(n)) return;
        if (n.inputs.includes(out)) g.msg(GRAPH.node, withInputs(nf, n.inputs.map((x) => (x === out ? INPUTS_EMBEDS : x))));
        else g.raw(nf.raw);
      });
    },
    keepInitializer: (t) => !dropInits.has(t.name) && nodes.some((n) => !drop.has(n) && n.inputs.includes(t.name)),
    append: (g) => g.msg(GRAPH.input, valueInfoMsg(INPUTS_EMBEDS, table.dim)),
  });
  return { table };
}
