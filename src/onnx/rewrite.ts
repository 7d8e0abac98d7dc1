// What every graph rewrite (the embedding table's extraction, the uint8 weights, the 4-bit
// MatMuls) does around its own edit: open the model and index its graph, write new weights to
// an aligned data file, and write the model back with its nodes replaced, its initializers
// filtered and new ones appended, every other field copied byte for byte.

import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import { fields, OnnxFormatError, readNode, readTensor, type Field, type NodeInfo, type TensorInfo } from './reader.js';
import { Msg, writeChunks } from './writer.js';

/** The protobuf field numbers of onnx.proto this project reads and writes. */
export const MODEL = { graph: 7, opsetImport: 8 } as const;
export const GRAPH = { node: 1, initializer: 5, input: 11, output: 12 } as const;

export interface OpenedModel {
  modelFields: Field[];
  graphFields: Field[];
  /** The graph's node fields and what they say, in order. */
  nodeFields: Field[];
  nodes: NodeInfo[];
  /** Initializers by name, and by their field. */
  inits: Map<string, TensorInfo>;
  initOf: Map<Field, TensorInfo>;
}

/** The model at `path`, its graph indexed; null if it has no graph. */
export function openModel(path: string): OpenedModel | null {
  const modelFields = [...fields(readFileSync(path))];
  const graphField = modelFields.find((f) => f.field === MODEL.graph);
  if (!graphField) return null;
  const graphFields = [...fields(graphField.bytes)];
  const nodeFields = graphFields.filter((f) => f.field === GRAPH.node);
  const inits = new Map<string, TensorInfo>();
  const initOf = new Map<Field, TensorInfo>();
  for (const f of graphFields) {
    if (f.field !== GRAPH.initializer) continue;
    const t = readTensor(f);
    inits.set(t.name, t);
    initOf.set(f, t);
  }
  return { modelFields, graphFields, nodeFields, nodes: nodeFields.map(readNode), inits, initOf };
}

export function openModelOrThrow(path: string): OpenedModel {
  const m = openModel(path);
  if (m === null) throw new OnnxFormatError(`${path}: no graph`);
  return m;
}

/** A data file written by appending, each piece 64-byte aligned as onnxruntime aligns its own (mmap likes it). */
export class AlignedData {
  private readonly fd: number;
  private offset = 0;

  constructor(path: string) {
    this.fd = openSync(path, 'w');
  }

  /** Appends `data`; returns where it starts. */
  append(data: Uint8Array): number {
    const pad = (64 - (this.offset % 64)) % 64;
    if (pad > 0) writeSync(this.fd, new Uint8Array(pad));
    this.offset += pad;
    const at = this.offset;
    for (let off = 0; off < data.length;) off += writeSync(this.fd, data, off, data.length - off);
    this.offset += data.length;
    return at;
  }

  /** Bytes written so far. */
  get size(): number {
    return this.offset;
  }

  close(): void {
    closeSync(this.fd);
  }
}

export interface GraphEdit {
  /** Writes the graph's nodes, where the first original node stood. */
  nodes(g: Msg): void;
  /** Whether an original initializer stays. */
  keepInitializer(t: TensorInfo): boolean;
  /** Added after the graph's own fields: new initializers, inputs. */
  append?(g: Msg): void;
  /** Opset imports the model must have besides its own (domain → version). */
  opsets?: Record<string, number>;
}

/** Writes `m` to `target` with `edit` applied to its graph. */
export function writeEdited(m: OpenedModel, target: string, edit: GraphEdit): void {
  const g = new Msg();
  let nodesWritten = false;
  for (const f of m.graphFields) {
    if (f.field === GRAPH.node) {
      if (nodesWritten) continue;
      nodesWritten = true;
      edit.nodes(g);
    } else if (f.field === GRAPH.initializer) {
      if (edit.keepInitializer(m.initOf.get(f) as TensorInfo)) g.raw(f.raw);
    } else {
      g.raw(f.raw);
    }
  }
  if (!nodesWritten) edit.nodes(g);
  edit.append?.(g);
  const model = new Msg();
  const domains = new Set<string>();
  for (const f of m.modelFields) {
    if (f.field === MODEL.graph) continue;
    if (f.field === MODEL.opsetImport) domains.add(firstString(f));
    model.raw(f.raw);
  }
  for (const [domain, version] of Object.entries(edit.opsets ?? {})) {
    if (!domains.has(domain)) model.msg(MODEL.opsetImport, new Msg().string(1, domain).int(2, version));
  }
  model.msg(MODEL.graph, g);
  writeChunks(target, model);
}

/** The first string field of a message: a value info's or an opset import's name or domain. */
export function firstString(f: Field): string {
  for (const g of fields(f.bytes)) if (g.field === 1) return new TextDecoder().decode(g.bytes);
  return '';
}
