// Rewrites an ONNX encoder so that its weight MatMuls become onnxruntime's 4-bit
// MatMulNBits. Reads either an fp32 export (MatMul with a weight initializer) or a
// dynamically quantized int8 export (DynamicQuantizeLinear → MatMulInteger → Cast → Mul by
// the product of scales), dequantizes each weight and quantizes it again in 4-bit blocks.
// Everything else is copied byte for byte. An fp32 word-embedding table is stored as int8
// (Gather then DequantizeLinear), as the int8 exports do, so that only the rows a request
// touches are read.

import { dirname } from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { quantize4bit } from './block-quant.js';
import { elementCount, OnnxFormatError, tensorValues, type NodeInfo } from './reader.js';
import { firstString, GRAPH, openModelOrThrow, writeEdited } from './rewrite.js';
import { DataType, nodeMsg, tensorMsg, type Node, type Tensor } from './writer.js';

export interface To4BitOptions {
  blockSize: number;
  /** MatMulNBits accuracy_level: 0 = as the input type (fp32 compute), 4 = int8 compute. */
  accuracyLevel: number;
}

export interface To4BitResult {
  /** MatMuls rewritten to MatMulNBits. */
  rewritten: number;
  /** Weight MatMuls that did not match a known pattern and were left as they were. */
  leftAlone: string[];
  /** Bytes of the rewritten weights before and after (codes, scales and zero points). */
  bytesBefore: number;
  bytesAfter: number;
  embeddingTableQuantized: boolean;
}

// Larger tables than this are word-embedding tables (position tables are ~400k values).
const WORD_TABLE_MIN = 4_000_000;

interface Replacement {
  /** Index of the node the new nodes take the place of; the pattern's other nodes are dropped. */
  at: number;
  nodes: Node[];
  initializers: Tensor[];
}

/**
 * The rewrite in a process of its own. It reads the source model whole (279 MB for e5-base
 * int8), and memory freed inside this process is not all given back to the system: prepare
 * peaked at 991 MB with the rewrite in the main thread and still at 988 MB in a worker thread,
 * which matters on a 1 GB machine preparing onto its volume.
 */
export function rewriteTo4BitApart(sourcePath: string, targetPath: string, opts: To4BitOptions): Promise<To4BitResult> {
  // Beside this module in dist/onnx/, and beside the bundle's chunks in dist/bin/.
  const script = fileURLToPath(new URL('./to-4bit-process.js', import.meta.url));
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, JSON.stringify({ source: sourcePath, target: targetPath, opts })], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.once('error', reject);
    child.once('close', (code, signal) => {
      if (code === 0) resolve(JSON.parse(out) as To4BitResult);
      else reject(new OnnxFormatError(err.trim() || `the 4-bit rewrite stopped (${signal ?? `exit code ${code}`})`));
    });
  });
}

export function rewriteTo4Bit(sourcePath: string, targetPath: string, opts: To4BitOptions): To4BitResult {
  const dir = dirname(sourcePath);
  const m = openModelOrThrow(sourcePath);
  const { nodes, inits } = m;
  const producer = new Map<string, number>();
  const consumers = new Map<string, number[]>();
  nodes.forEach((n, i) => {
    for (const o of n.outputs) producer.set(o, i);
    for (const x of n.inputs) {
      const list = consumers.get(x);
      if (list) list.push(i);
      else consumers.set(x, [i]);
    }
  });
  const only = (name: string): NodeInfo | null => {
    const c = consumers.get(name) ?? [];
    return c.length === 1 ? nodes[c[0]] : null;
  };
  const producedBy = (name: string, op: string): NodeInfo | null => {
    const i = producer.get(name);
    return i !== undefined && nodes[i].op === op ? nodes[i] : null;
  };
  const floatInit = (name: string): Float32Array | null => {
    const t = inits.get(name);
    return t && t.dataType === DataType.FLOAT ? (tensorValues(t, dir) as Float32Array) : null;
  };

  const replacements = new Map<number, Replacement>();
  const dropped = new Set<number>();
  const result: To4BitResult = { rewritten: 0, leftAlone: [], bytesBefore: 0, bytesAfter: 0, embeddingTableQuantized: false };
  let serial = 0;

  const emit = (at: number, a: string, out: string, w: Float32Array, k: number, n: number, label: string): void => {
    const q = quantize4bit(w, k, n, opts.blockSize);
    const base = `${label.replace(/[^A-Za-z0-9_.]/g, '_')}_q4_${serial++}`;
    const initializers: Tensor[] = [
      { name: `${base}.codes`, type: DataType.UINT8, dims: [n, q.blocksPerCol, opts.blockSize / 2], data: q.codes },
      { name: `${base}.scales`, type: DataType.FLOAT, dims: [n * q.blocksPerCol], data: q.scales },
      { name: `${base}.zero_points`, type: DataType.UINT8, dims: [q.zeroPoints.length], data: q.zeroPoints },
    ];
    const node: Node = {
      op: 'MatMulNBits',
      domain: 'com.microsoft',
      name: `${base}.matmul`,
      inputs: [a, ...initializers.map((t) => t.name)],
      outputs: [out],
      attrs: { K: k, N: n, bits: 4, block_size: opts.blockSize, accuracy_level: opts.accuracyLevel },
    };
    replacements.set(at, { at, nodes: [node], initializers });
    result.rewritten++;
    result.bytesAfter += q.codes.byteLength + q.scales.byteLength + q.zeroPoints.byteLength;
  };

  nodes.forEach((node, i) => {
    if (node.domain !== '' && node.domain !== 'ai.onnx') return;
    const weight = inits.get(node.inputs[1] ?? '');
    if (node.op === 'MatMul' && weight?.dims.length === 2 && weight.dataType === DataType.FLOAT) {
      const [k, n] = weight.dims;
      result.bytesBefore += k * n * 4;
      emit(i, node.inputs[0], node.outputs[0], tensorValues(weight, dir) as Float32Array, k, n, weight.name);
      dropped.add(i);
      return;
    }
    if (node.op === 'MatMulInteger' && weight?.dims.length === 2) {
      const [k, n] = weight.dims;
      const dql = producedBy(node.inputs[0], 'DynamicQuantizeLinear');
      const cast = only(node.outputs[0]);
      const mul = cast?.op === 'Cast' && cast.ints.to === DataType.FLOAT ? only(cast.outputs[0]) : null;
      const scaleMul = mul?.op === 'Mul' ? producedBy(mul.inputs.find((x) => x !== cast?.outputs[0]) ?? '', 'Mul') : null;
      const wScaleName = scaleMul?.inputs.find((x) => x !== dql?.outputs[1]);
      const ws = wScaleName !== undefined && scaleMul?.inputs.includes(dql?.outputs[1] ?? '\0') ? floatInit(wScaleName) : null;
      if (!dql || !mul || !ws || (ws.length !== 1 && ws.length !== n) || (weight.dataType !== DataType.INT8 && weight.dataType !== DataType.UINT8)) {
        result.leftAlone.push(weight.name);
        return;
      }
      const zpInit = node.inputs[3] ? inits.get(node.inputs[3]) : undefined;
      const zp = zpInit ? tensorValues(zpInit, dir) : new Int8Array(1);
      if (zp.length !== 1 && zp.length !== n) {
        result.leftAlone.push(weight.name);
        return;
      }
      const wq = tensorValues(weight, dir);
      const w = new Float32Array(k * n);
      for (let r = 0; r < k; r++) {
        for (let c = 0; c < n; c++) {
          const z = zp.length === 1 ? zp[0] : zp[c];
          const s = ws.length === 1 ? ws[0] : ws[c];
          w[r * n + c] = (wq[r * n + c] - z) * s;
        }
      }
      result.bytesBefore += k * n;
      const mulIndex = nodes.indexOf(mul);
      const castIndex = nodes.indexOf(cast!);
      emit(mulIndex, dql.inputs[0], mul.outputs[0], w, k, n, weight.name);
      dropped.add(i).add(castIndex).add(mulIndex);
      return;
    }
    if (node.op === 'Gather' && (node.ints.axis ?? 0) === 0 && weight === undefined) {
      const table = inits.get(node.inputs[0]);
      if (!table || table.dataType !== DataType.FLOAT || table.dims.length !== 2 || elementCount(table) < WORD_TABLE_MIN) return;
      const values = tensorValues(table, dir) as Float32Array;
      let absMax = 0;
      for (const v of values) absMax = Math.max(absMax, Math.abs(v));
      const scale = absMax > 0 ? absMax / 127 : 1;
      const q = new Int8Array(values.length);
      for (let j = 0; j < values.length; j++) q[j] = Math.round(values[j] / scale);
      const base = `${table.name}_int8`;
      const gathered = `${base}.gathered`;
      replacements.set(i, {
        at: i,
        nodes: [
          { op: 'Gather', name: `${base}.gather`, inputs: [`${base}.values`, node.inputs[1]], outputs: [gathered], attrs: { axis: 0 } },
          { op: 'DequantizeLinear', name: `${base}.dequantize`, inputs: [gathered, `${base}.scale`, `${base}.zero_point`], outputs: [node.outputs[0]] },
        ],
        initializers: [
          { name: `${base}.values`, type: DataType.INT8, dims: table.dims, data: q },
          { name: `${base}.scale`, type: DataType.FLOAT, dims: [], data: Float32Array.of(scale) },
          { name: `${base}.zero_point`, type: DataType.INT8, dims: [], data: new Int8Array(1) },
        ],
      });
      dropped.add(i);
      result.embeddingTableQuantized = true;
    }
  });
  if (result.rewritten === 0) throw new OnnxFormatError(`${sourcePath}: no weight MatMul found to rewrite (neither fp32 MatMul nor the int8 MatMulInteger pattern)`);

  // The new graph in order, then everything no longer needed by a graph output is dropped.
  const order: Array<{ node: Node | NodeInfo; fresh: boolean }> = [];
  const freshInits: Tensor[] = [];
  nodes.forEach((n, i) => {
    const r = replacements.get(i);
    if (r) {
      for (const x of r.nodes) order.push({ node: x, fresh: true });
      freshInits.push(...r.initializers);
    }
    if (!dropped.has(i)) order.push({ node: n, fresh: false });
  });
  const graphOutputs = m.graphFields.filter((f) => f.field === GRAPH.output).map(firstString);
  const needed = new Set(graphOutputs);
  const live: boolean[] = new Array<boolean>(order.length).fill(false);
  for (let i = order.length - 1; i >= 0; i--) {
    const n = order[i].node;
    if (!n.outputs.some((o) => needed.has(o))) continue;
    live[i] = true;
    for (const x of n.inputs) needed.add(x);
  }

  writeEdited(m, targetPath, {
    nodes(g) {
      order.forEach((o, i) => {
        if (!live[i]) return;
        if (o.fresh) g.msg(GRAPH.node, nodeMsg(o.node as Node));
        else g.raw((o.node as NodeInfo).raw);
      });
    },
    keepInitializer: (t) => needed.has(t.name),
    append(g) {
      for (const t of freshInits) if (needed.has(t.name)) g.msg(GRAPH.initializer, tensorMsg(t));
    },
    // MatMulNBits lives in onnxruntime's own domain.
    opsets: { 'com.microsoft': 1 },
  });
  return result;
}
