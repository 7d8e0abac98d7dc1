// The loaded model as one object: texts in, vectors out. Owns the tokenizer and the
// session; everything above it (CLI, HTTP) speaks to this.

import { join } from 'node:path';
import type { EngineConfigOptions } from '../config.js';
import { Embedder, type BatchStats } from '../engine/embedder.js';
import { OnnxSession } from '../engine/onnx-session.js';
import { cpuFingerprint } from '../cpu.js';
import { PREPARED_FILES, readManifest, type Manifest } from '../model/manifest.js';
import { readTokenizerFile } from '../tokenizer/binary-file.js';
import { prepareInputs, type PrepareOptions } from '../tokenizer/e5-input.js';
import { Tokenizer } from '../tokenizer/tokenizer.js';

export interface EmbedResult {
  vectors: Float32Array[];
  tokens: number;
  truncated: number;
}

export interface EmbedOptions extends PrepareOptions {
  normalize: boolean;
  onBatch?: (s: BatchStats) => void;
}

export class Pipeline {
  private constructor(
    readonly manifest: Manifest,
    readonly tokenizer: Tokenizer,
    private readonly session: OnnxSession,
    private readonly embedder: Embedder,
  ) {}

  static async load(preparedDir: string, engine: EngineConfigOptions): Promise<Pipeline> {
    const manifest = readManifest(preparedDir);
    if (manifest === null) throw new Error(`${preparedDir} holds no prepared model (run "ortos-embed prepare")`);
    // Packed weights only where they were made: their layout follows the CPU's kernels.
    const graph = manifest.prepacked && manifest.prepacked.cpu === cpuFingerprint() ? manifest.prepacked.model : PREPARED_FILES.model;
    const sessionPromise = OnnxSession.load(join(preparedDir, graph), { threads: engine.threads });
    const tokenizer = new Tokenizer(readTokenizerFile(join(preparedDir, PREPARED_FILES.tokenizer)).data);
    const session = await sessionPromise;
    return new Pipeline(manifest, tokenizer, session, new Embedder(session, { batchTokens: engine.batchTokens, padId: manifest.config.padId }));
  }

  /** Whether this process runs the packed-weight graph. */
  get prepacked(): boolean {
    return this.manifest.prepacked?.cpu === cpuFingerprint();
  }

  get dimensions(): number {
    return this.manifest.config.hiddenSize;
  }

  get maxTokens(): number {
    // XLM-R positions start after the padding id: 514 positions hold 512 tokens.
    return Math.min(512, this.manifest.config.maxPositions - this.manifest.config.padId - 1);
  }

  async embed(texts: readonly string[], opts: EmbedOptions): Promise<EmbedResult> {
    const inputs = prepareInputs(this.tokenizer, texts, { ...opts, maxTokens: opts.maxTokens ?? this.maxTokens });
    const vectors = await this.embedder.embedIds(inputs.ids, opts.normalize, opts.onBatch);
    return { vectors, tokens: inputs.tokens, truncated: inputs.truncated };
  }

  async embedIds(ids: readonly number[][], normalize: boolean): Promise<Float32Array[]> {
    return this.embedder.embedIds(ids, normalize);
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}
