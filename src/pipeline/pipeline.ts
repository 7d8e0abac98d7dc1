// The loaded model as one object: its text side (rules, tokenizer) and model runs (embedding
// rows, session and pooling, all on the inference thread). Requests reach it through the door
// (service/embedding-service.ts), which tokenizes, queues, batches and normalizes.

import type { EngineConfigOptions } from '../settings/engine.js';
import type { Int8Choice } from '../engine/int8-kernels.js';
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
    private readonly session: ThreadedSession,
    /** Padded tokens per model run (--batch-tokens): the queue forms runs up to it. */
    readonly batchTokens: number,
    /** The graph file in use. */
    readonly graph: string,
    /** For int8 models: which weights run here, and why. */
    readonly int8: Int8Choice | null,
  ) {}

  /**
   * `early` gets the text side and the graph chosen for this CPU as soon as both are known,
   * while the session is still opening: enough to tokenize and to answer from the cache.
   */
  static async load(preparedDir: string, engine: EngineConfigOptions, early?: (known: EarlyModel) => void): Promise<Pipeline> {
    const manifest = readManifest(preparedDir);
    if (manifest === null) throw new Error(`${preparedDir} holds no prepared model (run "ortos-embed prepare")`);
    // The inference thread starts first: it loads onnxruntime, picks the graph and opens the
    // session and the embedding rows while this thread reads the tokenizer.
    let text: ModelText | null = null;
    let chosen: string | null = null;
    const tell = (): void => {
      if (text !== null && chosen !== null) early?.({ text, graph: chosen });
    };
    const threaded = ThreadedSession.load(preparedDir, { int8Weights: engine.int8Weights ?? 'auto', threads: engine.threads, batchTokens: engine.batchTokens, memory: engine.memory }, (graph) => {
      chosen = graph;
      tell();
    });
    // Not left unhandled while the text side is read; awaited below.
    threaded.catch(() => {});
    text = ModelText.load(preparedDir, engine.instruction);
    tell();
    const { session, graph, int8 } = await threaded;
    return new Pipeline(text, session, engine.batchTokens, graph, int8);
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

  /** One model run: raw pooled vectors, or all token vectors where `tokens[i]` (see Embedder.run). */
  async run(ids: readonly number[][], tokens: readonly boolean[] | null): Promise<Float32Array[]> {
    return this.session.run(ids, tokens);
  }

  /** A cross-encoder's run: joined pairs and their token types in, each pair's logits out. */
  async score(ids: readonly number[][], types: readonly number[][]): Promise<Float32Array[]> {
    return this.session.run(ids, null, types);
  }

  /** Embedding model or cross-encoder. */
  get task(): 'embed' | 'rerank' {
    return this.rules.task ?? 'embed';
  }

  /** Calls `listener` if the model can no longer run (its inference thread died). */
  onLost(listener: (why: Error) => void): void {
    this.session.onLost?.(listener);
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}
