// The manifest of a prepared model: what it was made from and with what, so `serve` can
// tell at once whether the prepared form is still valid or must be made again.

import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { EmbeddingTable } from '../onnx/embedding-table.js';
import type { Dtype, ModelConfig } from './layout.js';
import type { ModelRules } from './rules.js';
import type { Calibration } from '../vectors/compact.js';

// 2: int8 models also get the graph with uint8 weights (model.u8.onnx) for CPUs without VNNI.
// 3: the word-embedding table is out of the graph, in embeddings.bin, read row by row.
// 4: the model's rules (pooling, prompts, token limit) are in the manifest.
// 5: the calibration ranges of int8/uint8 vectors are in the manifest.
export const PREPARED_FORMAT = 5;
export const EMBEDDINGS_FILE = 'embeddings.bin';
export const MANIFEST_FILE = 'manifest.json';
export const PREPARED_FILES = { model: 'model.onnx', data: 'model.onnx.data', tokenizer: 'tokenizer.bin' } as const;
export const PREPACKED_DIR = 'prepacked';
/** The int8 graph with uint8 weights (exact u8×u8 kernels), sharing model.onnx.data for the rest. */
export const U8_FILES = { model: 'model.u8.onnx', data: 'model.u8.onnx.data' } as const;

export interface SourceStamp {
  name: string;
  size: number;
  mtimeMs: number;
}

export interface Manifest {
  format: number;
  createdAt: string;
  ortosVersion: string;
  onnxruntime: string;
  dtype: Dtype;
  /** Where the model came from, when known (hub repo and revision). */
  origin: { repo?: string; revision?: string };
  config: ModelConfig;
  /** Pooling, prompts and token limit, read from the model's files when it was prepared. */
  rules: ModelRules;
  io: { inputs: string[]; outputs: string[] };
  sources: SourceStamp[];
  /** Sizes of the prepared files, so a truncated one is noticed and made again, never loaded. */
  outputs: Record<string, number>;
  /** How a q4 graph was made: the MatMulNBits parameters and the export it came from. */
  quantization?: { blockSize: number; accuracyLevel: number; from: string };
  /** The word-embedding table, read row by row; absent when the graph's lookup was not recognised. */
  embeddings?: { file: string; table: EmbeddingTable };
  /** Why the table stayed in the graph, when it did. */
  embeddingsKept?: string;
  /** For int8: the graph with uint8 weights, for CPUs whose u8×s8 kernels saturate. */
  u8?: { model: string; data: string };
  /** Per-dimension ranges of the calibration sample's vectors, for int8 and uint8 output. */
  calibration?: Calibration;
  /** The graph in use on the CPU it was packed on, with packed weights; valid only there. */
  prepacked?: { cpu: string; model: string; weights?: 's8' | 'u8' };
}

export function stamp(dir: string, name: string): SourceStamp {
  const st = statSync(join(dir, name));
  return { name, size: st.size, mtimeMs: Math.trunc(st.mtimeMs) };
}

export function readManifest(preparedDir: string): Manifest | null {
  try {
    return JSON.parse(readFileSync(join(preparedDir, MANIFEST_FILE), 'utf8')) as Manifest;
  } catch {
    return null;
  }
}

/** Why the prepared files cannot be used on their own (without checking their sources), or null. */
export function selfContainedReason(preparedDir: string, onnxruntime: string, m: Manifest | null = readManifest(preparedDir)): string | null {
  if (m === null) return 'not prepared yet';
  if (m.format !== PREPARED_FORMAT) return `prepared with format ${m.format}, this version uses ${PREPARED_FORMAT}`;
  if (m.onnxruntime !== onnxruntime) return `prepared with onnxruntime ${m.onnxruntime}, this is ${onnxruntime}`;
  for (const f of Object.values(PREPARED_FILES)) {
    if (!existsSync(join(preparedDir, f))) return `${f} is missing`;
  }
  for (const [name, size] of Object.entries(m.outputs ?? {})) {
    let now: number;
    try {
      now = statSync(join(preparedDir, name)).size;
    } catch {
      return `${name} is missing`;
    }
    if (now !== size) return `${name} is ${now} bytes, ${size} were written (damaged?)`;
  }
  return null;
}

/** Why the prepared form cannot be used as it is, or null if it can. */
export function staleReason(
  preparedDir: string,
  sourceDir: string,
  sources: readonly string[],
  onnxruntime: string,
  dtype?: Dtype,
  m: Manifest | null = readManifest(preparedDir),
): string | null {
  const own = selfContainedReason(preparedDir, onnxruntime, m);
  if (own !== null || m === null) return own;
  if (dtype !== undefined && m.dtype !== dtype) return `prepared as ${m.dtype}, ${dtype} asked for`;
  const want = new Map(m.sources.map((s) => [s.name, s]));
  for (const name of sources) {
    const was = want.get(name);
    if (!was) return `${name} was not part of the prepared model`;
    let now: SourceStamp;
    try {
      now = stamp(sourceDir, name);
    } catch {
      return `${name} is missing from ${sourceDir}`;
    }
    if (now.size !== was.size || now.mtimeMs !== was.mtimeMs) return `${name} changed since it was prepared`;
  }
  return null;
}
