// The only module that knows onnxruntime. It is imported lazily, so commands that never
// run the model (--help, cost) do not pay for loading the native library.

import type { InferenceSession, Tensor } from 'onnxruntime-node';
import { keepOnnxruntimeQuiet } from '../settings/environment.js';

export type OrtModule = typeof import('onnxruntime-node');
let ortPromise: Promise<OrtModule> | null = null;

export async function ort(): Promise<OrtModule> {
  keepOnnxruntimeQuiet();
  ortPromise ??= import('onnxruntime-node').then((m) => ((m as { default?: OrtModule }).default ?? m) as OrtModule);
  return ortPromise;
}

export interface SessionOptions {
  threads: number;
  /** onnxruntime's memory features; only benchmarks change them (see create). */
  memory?: SessionMemory;
}

export interface SessionMemory {
  /** One planned block per input shape. */
  pattern: boolean;
  /** onnxruntime's own arena instead of malloc for activations. */
  arena: boolean;
}

/**
 * No memory pattern: it plans one block per input shape, and texts of every length give
 * every shape, so the arena grew to hold them all. After 640 passages of 50–2000 characters
 * the serving process peaked at 407–408 MB with it and 351 MB without (HTTP, same rate);
 * in-process 402–404 against 346–351 MB, 2–8 % slower (`npm run bench:memory`,
 * bench/results/memory-options-*.json). The arena stays on: without it glibc's heap kept
 * 390–395 MB (483–543 with the pattern). Arena shrinkage, which would return the arena
 * after each run, is a run option the Node binding does not pass on (1.30).
 */
export const SERVING_MEMORY: SessionMemory = { pattern: false, arena: true };

function baseOptions(threads: number): InferenceSession.SessionOptions {
  return {
    executionProviders: ['cpu'],
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    logSeverityLevel: 3,
    // Idle threads must not spin: on a shared vCPU spinning burns the neighbour's time and ours.
    extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } },
  };
}

export interface ModelIo {
  inputs: string[];
  outputs: string[];
}

/** Loads `source` once and lets onnxruntime write it back to `target` with external weights. */
async function rewrite(source: string, target: string, dataFile: string, level: 'extended' | 'disabled', prepacked: boolean): Promise<ModelIo> {
  const { InferenceSession } = await ort();
  const session = await InferenceSession.create(source, {
    ...baseOptions(1),
    graphOptimizationLevel: level,
    optimizedModelFilePath: target,
    extra: {
      session: {
        optimized_model_external_initializers_file_name: dataFile,
        optimized_model_external_initializers_min_size_in_bytes: '1024',
        ...(prepacked ? { save_external_prepacked_constant_initializers: '1' } : {}),
      },
    },
  });
  const io = { inputs: [...session.inputNames], outputs: [...session.outputNames] };
  await session.release();
  return io;
}

/**
 * Runs onnxruntime's graph optimizations once (level "extended": fusions that stay valid on
 * any x86 CPU, no hardware-specific layouts) and saves the graph with its weights as an
 * external data file, which the runtime then maps instead of copying.
 */
export function optimizeModel(source: string, target: string, dataFile: string): Promise<ModelIo> {
  return rewrite(source, target, dataFile, 'extended', false);
}

/**
 * Saves the already optimized graph again with onnxruntime's packed weight layouts in the
 * data file, so a session maps them instead of packing at every start (≈70 ms of the
 * e5-base load on one core). The layouts depend on the CPU's kernels: use only on a CPU
 * with the same fingerprint (see cpu.ts).
 */
export async function savePrepacked(optimized: string, target: string, dataFile: string): Promise<void> {
  await rewrite(optimized, target, dataFile, 'disabled', true);
}

export interface Forward {
  /** [rows, cols, dim] last hidden state; for a classifier, [rows, dim] logits. */
  hidden: Float32Array;
  dim: number;
}

/** What the embedder runs: an onnxruntime session (on the inference thread; tests run one here too). */
export interface ModelSession {
  readonly io: ModelIo;
  readonly takesEmbeddings: boolean;
  forward(ids: BigInt64Array, mask: BigInt64Array, rows: number, cols: number, embeds?: Float32Array, types?: BigInt64Array): Promise<Forward>;
  release(): Promise<void>;
  /** Calls `listener` if the session stops for good other than by release (its thread died). */
  onLost?(listener: (why: Error) => void): void;
}

export class OnnxSession implements ModelSession {
  private constructor(
    private readonly session: InferenceSession,
    private readonly TensorCtor: typeof Tensor,
    readonly io: ModelIo,
    private readonly outputName: string,
  ) {}

  /** A session on any graph with the options every prepared model is run with. */
  static async create(path: string, threads: number, memory: SessionMemory = SERVING_MEMORY): Promise<InferenceSession> {
    const { InferenceSession } = await ort();
    // The prepared graph is already optimized: running the optimizers again only costs time.
    return InferenceSession.create(path, { ...baseOptions(threads), graphOptimizationLevel: 'disabled', enableMemPattern: memory.pattern, enableCpuMemArena: memory.arena });
  }

  static async load(path: string, opts: SessionOptions): Promise<OnnxSession> {
    const { Tensor: TensorCtor } = await ort();
    const session = await OnnxSession.create(path, opts.threads, opts.memory);
    const inputs = [...session.inputNames];
    const outputs = [...session.outputNames];
    for (const need of ['input_ids', 'attention_mask']) {
      if (!inputs.includes(need)) throw new Error(`the ONNX graph has no "${need}" input (inputs: ${inputs.join(', ')})`);
    }
    // Token vectors (an embedding model), or a classifier's logits (a cross-encoder).
    const outputName = ['last_hidden_state', 'token_embeddings', 'logits'].find((n) => outputs.includes(n));
    if (outputName === undefined) throw new Error(`the ONNX graph has no last_hidden_state/token_embeddings/logits output (outputs: ${outputs.join(', ')})`);
    return new OnnxSession(session, TensorCtor, { inputs, outputs }, outputName);
  }

  /** Whether the graph takes the looked-up word embeddings as an input (prepared format 3). */
  get takesEmbeddings(): boolean {
    return this.io.inputs.includes('inputs_embeds');
  }

  /** What the graph computes: token vectors, or one score per input (logits). */
  get task(): 'embed' | 'rerank' {
    return this.outputName === 'logits' ? 'rerank' : 'embed';
  }

  /** ids, mask and types are [rows, cols] row-major; embeds [rows, cols, dim] when the graph takes them. */
  async forward(ids: BigInt64Array, mask: BigInt64Array, rows: number, cols: number, embeds?: Float32Array, types?: BigInt64Array): Promise<Forward> {
    const feeds: Record<string, Tensor> = {
      input_ids: new this.TensorCtor('int64', ids, [rows, cols]),
      attention_mask: new this.TensorCtor('int64', mask, [rows, cols]),
    };
    if (this.takesEmbeddings) {
      if (!embeds) throw new Error('the graph takes inputs_embeds and none were given (embeddings.bin missing from the prepared folder?)');
      feeds.inputs_embeds = new this.TensorCtor('float32', embeds, [rows, cols, embeds.length / (rows * cols)]);
    }
    if (this.io.inputs.includes('token_type_ids')) {
      feeds.token_type_ids = new this.TensorCtor('int64', types ?? new BigInt64Array(rows * cols), [rows, cols]);
    }
    const out = await this.session.run(feeds, [this.outputName]);
    const t = out[this.outputName];
    const dims = t.dims;
    if (this.task === 'rerank') {
      if (dims.length !== 2 || dims[0] !== rows) throw new Error(`unexpected logits shape [${dims.join(', ')}]`);
      return { hidden: t.data as Float32Array, dim: dims[1] };
    }
    if (dims.length !== 3 || dims[0] !== rows || dims[1] !== cols) throw new Error(`unexpected output shape [${dims.join(', ')}]`);
    return { hidden: t.data as Float32Array, dim: dims[2] };
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}
