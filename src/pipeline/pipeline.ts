// The loaded model as one object: its files' rules, the tokenizer, and model runs (the
// session on its thread, pooling). Requests reach it through the door
// (service/embedding-service.ts), which tokenizes, queues, batches and normalizes.

import { join } from 'node:path';
import type { EngineConfigOptions } from '../settings/engine.js';
import { Embedder } from '../engine/embedder.js';
import type { Int8Choice } from '../engine/int8-kernels.js';
import { EmbeddingRows } from '../engine/embedding-rows.js';
import type { ModelSession } from '../engine/onnx-session.js';
import { ThreadedSession } from '../engine/threaded-session.js';
import { PREPARED_FILES, readManifest, type Manifest } from '../model/manifest.js';
import { readTokenizerFile } from '../tokenizer/binary-file.js';
import type { ModelRules } from '../model/rules.js';
import { Tokenizer } from '../tokenizer/tokenizer.js';

export class Pipeline {
  private constructor(
    readonly manifest: Manifest,
    readonly tokenizer: Tokenizer,
    private readonly session: ModelSession,
    private readonly embedder: Embedder,
    /** The graph file in use. */
    readonly graph: string,
    /** For int8 models: which weights run here, and why. */
    readonly int8: Int8Choice | null,
    private readonly rows?: EmbeddingRows,
  ) {}

  static async load(preparedDir: string, engine: EngineConfigOptions): Promise<Pipeline> {
    const manifest = readManifest(preparedDir);
    if (manifest === null) throw new Error(`${preparedDir} holds no prepared model (run "ortos-embed prepare")`);
    // The inference thread starts first: it loads onnxruntime, picks the graph and opens the
    // session while this thread reads the tokenizer and the embedding rows.
    const threaded = ThreadedSession.load(preparedDir, { int8Weights: engine.int8Weights ?? 'auto', threads: engine.threads, memory: engine.memory });
    const rowsPromise = manifest.embeddings ? EmbeddingRows.open(join(preparedDir, manifest.embeddings.file), manifest.embeddings.table) : Promise.resolve(undefined);
    const tokenizer = new Tokenizer(readTokenizerFile(join(preparedDir, PREPARED_FILES.tokenizer)).data);
    const [{ session, graph, int8 }, rows] = await Promise.all([threaded, rowsPromise]);
    const rules: ModelRules = engine.instruction !== undefined ? { ...manifest.rules, defaultInstruction: engine.instruction } : manifest.rules;
    const embedder = new Embedder(session, { batchTokens: engine.batchTokens, padId: manifest.config.padId, pooling: rules.pooling, rows });
    return new Pipeline({ ...manifest, rules }, tokenizer, session, embedder, graph, int8, rows);
  }

  /** Whether this process runs the packed-weight graph. */
  get prepacked(): boolean {
    return this.manifest.prepacked !== undefined && this.graph === this.manifest.prepacked.model;
  }

  /** The hub repo it came from, or the name its folder gives it. */
  get name(): string {
    return this.manifest.origin.repo ?? this.manifest.config.name ?? 'unknown';
  }

  get dimensions(): number {
    return this.manifest.config.hiddenSize;
  }

  /** Pooling, prompts and token limit in force (the default instruction as configured). */
  get rules(): ModelRules {
    return this.manifest.rules;
  }

  get maxTokens(): number {
    return this.manifest.rules.maxTokens;
  }

  /** Padded tokens per model run (--batch-tokens): the queue forms runs up to it. */
  get batchTokens(): number {
    return this.embedder.batchTokens;
  }

  /** One model run: raw pooled vectors, or all token vectors where `tokens[i]` (see Embedder.run). */
  async run(ids: readonly number[][], tokens: readonly boolean[] | null): Promise<Float32Array[]> {
    return this.embedder.run(ids, tokens);
  }

  /** Calls `listener` if the model can no longer run (its inference thread died). */
  onLost(listener: (why: Error) => void): void {
    this.session.onLost?.(listener);
  }

  async close(): Promise<void> {
    await this.session.release();
    await this.rows?.close();
  }
}
