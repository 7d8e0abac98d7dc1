// A minimal ONNX (protobuf) reader: walks a message's fields and hands back views into the
// original bytes, never copies. Enough to find nodes and initializers in a graph and to
// write the untouched ones back byte for byte.

import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { DataType } from './writer.js';

export interface Field {
  field: number;
  wire: number;
  /** The value of a varint field. */
  int: number;
  /** The payload of a length-delimited field, or the 4/8 bytes of a fixed field. */
  bytes: Uint8Array;
  /** The whole field, tag included: appended as it is when the field is kept. */
  raw: Uint8Array;
}

export class OnnxFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OnnxFormatError';
  }
}

function varint(buf: Uint8Array, at: number): [value: number, next: number] {
  let value = 0;
  let mul = 1;
  for (let i = at; i < buf.length && i < at + 10; i++) {
    const b = buf[i];
    value += (b & 0x7f) * mul;
    mul *= 128;
    if (b < 0x80) return [value, i + 1];
  }
  throw new OnnxFormatError(`truncated varint at byte ${at}`);
}

export function* fields(buf: Uint8Array): Generator<Field> {
  let at = 0;
  while (at < buf.length) {
    const start = at;
    const [tag, afterTag] = varint(buf, at);
    at = afterTag;
    const wire = tag % 8;
    const field = Math.floor(tag / 8);
    let int = 0;
    let bytes = buf.subarray(at, at);
    if (wire === 0) {
      [int, at] = varint(buf, at);
    } else if (wire === 2) {
      const [len, next] = varint(buf, at);
      if (next + len > buf.length) throw new OnnxFormatError(`field ${field} runs past the end (truncated file?)`);
      bytes = buf.subarray(next, next + len);
      at = next + len;
    } else if (wire === 1 || wire === 5) {
      const len = wire === 1 ? 8 : 4;
      bytes = buf.subarray(at, at + len);
      at += len;
    } else {
      throw new OnnxFormatError(`unsupported wire type ${wire} at byte ${start}`);
    }
    if (at > buf.length) throw new OnnxFormatError('message runs past the end (truncated file?)');
    yield { field, wire, int, bytes, raw: buf.subarray(start, at) };
  }
}

const utf8 = new TextDecoder();
const text = (f: Field): string => utf8.decode(f.bytes);

/** A repeated int64 field, packed or not. */
function pushInts(out: number[], f: Field): void {
  if (f.wire === 0) out.push(f.int);
  else for (let at = 0; at < f.bytes.length; ) {
    const [v, next] = varint(f.bytes, at);
    out.push(v);
    at = next;
  }
}

export interface NodeInfo {
  op: string;
  domain: string;
  name: string;
  inputs: string[];
  outputs: string[];
  /** Integer attributes (enough for Cast's "to" and Gather's "axis"). */
  ints: Record<string, number>;
  raw: Uint8Array;
}

export function readNode(f: Field): NodeInfo {
  const n: NodeInfo = { op: '', domain: '', name: '', inputs: [], outputs: [], ints: {}, raw: f.raw };
  for (const g of fields(f.bytes)) {
    if (g.field === 1) n.inputs.push(text(g));
    else if (g.field === 2) n.outputs.push(text(g));
    else if (g.field === 3) n.name = text(g);
    else if (g.field === 4) n.op = text(g);
    else if (g.field === 7) n.domain = text(g);
    else if (g.field === 5) {
      let name = '';
      let i: number | undefined;
      for (const a of fields(g.bytes)) {
        if (a.field === 1) name = text(a);
        else if (a.field === 3) i = a.int;
      }
      if (i !== undefined) n.ints[name] = i;
    }
  }
  return n;
}

export interface TensorInfo {
  name: string;
  dataType: number;
  dims: number[];
  raw: Uint8Array;
  /** raw_data, or the typed repeated field that holds the values. */
  payload: { kind: 'raw' | 'float' | 'int32' | 'int64'; bytes: Uint8Array } | { kind: 'external'; location: string; offset: number; length: number } | null;
}

export function readTensor(f: Field): TensorInfo {
  const t: TensorInfo = { name: '', dataType: 0, dims: [], raw: f.raw, payload: null };
  let external: Record<string, string> | null = null;
  for (const g of fields(f.bytes)) {
    if (g.field === 1) pushInts(t.dims, g);
    else if (g.field === 2) t.dataType = g.int;
    else if (g.field === 8) t.name = text(g);
    else if (g.field === 9) t.payload = { kind: 'raw', bytes: g.bytes };
    else if (g.field === 4) t.payload = { kind: 'float', bytes: g.bytes };
    else if (g.field === 5) t.payload = { kind: 'int32', bytes: g.bytes };
    else if (g.field === 7) t.payload = { kind: 'int64', bytes: g.bytes };
    else if (g.field === 13) {
      external ??= {};
      let key = '';
      let value = '';
      for (const e of fields(g.bytes)) {
        if (e.field === 1) key = text(e);
        else if (e.field === 2) value = text(e);
      }
      external[key] = value;
    } else if (g.field === 14 && g.int === 1 && external === null) external = {};
  }
  if (external !== null) {
    t.payload = { kind: 'external', location: external.location ?? '', offset: Number(external.offset ?? 0), length: Number(external.length ?? -1) };
  }
  return t;
}

export const elementCount = (t: TensorInfo): number => t.dims.reduce((a, b) => a * b, 1);

/** Only the tensor's bytes of an external data file (length -1: to the end of the file). */
function readRange(path: string, offset: number, length: number): Uint8Array {
  const fd = openSync(path, 'r');
  try {
    const out = new Uint8Array(length >= 0 ? length : fstatSync(fd).size - offset);
    let got = 0;
    while (got < out.length) {
      const n = readSync(fd, out, got, out.length - got, offset + got);
      if (n === 0) throw new OnnxFormatError(`${path}: ends before byte ${offset + out.length}`);
      got += n;
    }
    return out;
  } finally {
    closeSync(fd);
  }
}

/**
 * The tensor's values as a typed array (FLOAT, INT8, UINT8 only: the weight types the
 * rewrites read). External data is read from `dir`.
 */
export function tensorValues(t: TensorInfo, dir: string): Float32Array | Int8Array | Uint8Array {
  const count = elementCount(t);
  const p = t.payload;
  if (p === null) throw new OnnxFormatError(`initializer ${t.name} has no data`);
  let bytes: Uint8Array;
  if (p.kind === 'external') {
    bytes = readRange(join(dir, p.location), p.offset, p.length);
  } else if (p.kind === 'int32' && (t.dataType === DataType.INT8 || t.dataType === DataType.UINT8)) {
    // Small int8 tensors may be stored one value per varint in int32_data.
    const out = t.dataType === DataType.INT8 ? new Int8Array(count) : new Uint8Array(count);
    const ints: number[] = [];
    pushInts(ints, { field: 5, wire: 2, int: 0, bytes: p.bytes, raw: p.bytes });
    ints.forEach((v, i) => (out[i] = v));
    return out;
  } else {
    bytes = p.bytes;
  }
  // Copied so that the values are aligned and independent of the source buffer.
  const copy = new Uint8Array(bytes);
  if (t.dataType === DataType.FLOAT) {
    if (copy.byteLength !== count * 4) throw new OnnxFormatError(`initializer ${t.name}: ${copy.byteLength} bytes for ${count} floats`);
    return new Float32Array(copy.buffer);
  }
  if (copy.byteLength !== count) throw new OnnxFormatError(`initializer ${t.name}: ${copy.byteLength} bytes for ${count} values`);
  if (t.dataType === DataType.INT8) return new Int8Array(copy.buffer);
  if (t.dataType === DataType.UINT8) return copy;
  throw new OnnxFormatError(`initializer ${t.name}: data type ${t.dataType} is not read here`);
}
