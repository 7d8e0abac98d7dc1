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
import { readManifest, type Manifest } from '../model/manifest.js';
import type { ModelRules } from '../model/rules.js';
import type { Tokenizer } from '../tokenizer/tokenizer.js';
import { ModelText } from './model-text.js';

/** What is known of a model before its session is open. */
export interface EarlyModel {
  text: ModelText;
  /** The graph file this CPU will run (it names the int8 path). */
  graph: string;
}

export class Pipeline {
  private constructor(
    /** Rules, tokenizer and the model's name for the cache: ready before the session. */
    readonly text: ModelText,
    private readonly session: ModelSession,
    private readonly embedder: Embedder,
    /** The graph file in use. */
    readonly graph: string,
    /** For int8 models: which weights run here, and why. */
    readonly int8: Int8Choice | null,
    private readonly rows?: EmbeddingRows,
  ) {}

  /**
   * `early` gets the text side and the graph chosen for this CPU as soon as both are known,
   * while the session is still opening: enough to tokenize and to answer from the cache.
   */
  static async load(preparedDir: string, engine: EngineConfigOptions, early?: (known: EarlyModel) => void): Promise<Pipeline> {
    const manifest = readManifest(preparedDir);
    if (manifest === null) throw new Error(`${preparedDir} holds no prepared model (run "ortos-embed prepare")`);
    // The inference thread starts first: it loads onnxruntime, picks the graph and opens the
    // session while this thread reads the tokenizer and the embedding rows.
    let text: ModelText | null = null;
    let chosen: string | null = null;
    const tell = (): void => {
      if (text !== null && chosen !== null) early?.({ text, graph: chosen });
    };
    const threaded = ThreadedSession.load(preparedDir, { int8Weights: engine.int8Weights ?? 'auto', threads: engine.threads, memory: engine.memory }, (graph) => {
      chosen = graph;
      tell();
    });
    // Not left unhandled while the text side is read; awaited below.
    threaded.catch(() => {});
    const rowsPromise = manifest.embeddings ? EmbeddingRows.open(join(preparedDir, manifest.embeddings.file), manifest.embeddings.table) : Promise.resolve(undefined);
    text = ModelText.load(preparedDir, engine.instruction);
    tell();
    const [{ session, graph, int8 }, rows] = await Promise.all([threaded, rowsPromise]);
    const embedder = new Embedder(session, { batchTokens: engine.batchTokens, padId: manifest.config.padId, pooling: text.rules.pooling, rows });
    return new Pipeline(text, session, embedder, graph, int8, rows);
  }

  get manifest(): Manifest {
    return this.text.manifest;
  }

  get tokenizer(): Tokenizer {
    return this.text.tokenizer;
  }

  /** Whether this process runs the packed-weight graph. */
  get prepacked(): boolean {
    return this.manifest.prepacked !== undefined && this.graph === this.manifest.prepacked.model;
  }

  /** The hub repo it came from, or the name its folder gives it. */
  get name(): string {
    return this.text.name;
  }

  get dimensions(): number {
    return this.text.dimensions;
  }

  /** Pooling, prompts and token limit in force (the default instruction as configured). */
  get rules(): ModelRules {
    return this.text.rules;
  }

  get maxTokens(): number {
    return this.text.maxTokens;
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
