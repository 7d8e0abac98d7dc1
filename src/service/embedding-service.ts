// The one door to the model, for the CLI, the HTTP routes and the benchmarks alike: texts or
// token ids and a request's options in; prompts, tokenization and truncation, the shared queue
// (which batches once), pooling and one L2 normalization; a typed result or a ServiceError
// (core/errors.ts) out. It knows nothing of HTTP: the routes turn its errors' fields into body
// paths and statuses.

import { Batcher, type BatchRun } from '../core/batcher.js';
import { ServiceError } from '../core/errors.js';
import { ModelHost, type ModelState } from '../core/model-host.js';
import { l2Normalize } from '../engine/pooling.js';
import { PromptError } from '../model/rules.js';
import type { Pipeline } from '../pipeline/pipeline.js';
import { InputTooLongError, prepareInputs, withPrompt } from '../tokenizer/inputs.js';

/** What a request asks of the model besides its inputs. */
export interface EmbedOptions {
  /** Prompt name (undefined: the model's default). */
  prompt?: string;
  instruction?: string;
  /** A model without prompts ignores `prompt` (OpenAI's input_type) instead of refusing it. */
  lenientPrompt?: boolean;
  normalize: boolean;
  truncate: boolean;
  direction: 'left' | 'right';
  /** Only the model's own is accepted (e5 was not trained for shortened vectors). */
  dimensions?: number;
}

/** Texts, or the model's own token ids (cut to its limit, no prompt added). */
export type Inputs = { texts: readonly string[] } | { ids: readonly number[][] };

export interface Embedded {
  vectors: Float32Array[];
  tokens: number;
  truncated: number;
}

export interface TokenVectors {
  /** Per input: its token vectors back to back, `dim` floats each. */
  vectors: Float32Array[];
  dim: number;
  tokens: number;
  truncated: number;
}

export interface TokenizedText {
  ids: number[];
  /** [start, end) of each token in code points of the text as sent (the prompt, if asked for, included). */
  offsets: number[];
  special: boolean[];
  /** Each token's text: its span of the input, or the piece of a special token. */
  texts: string[];
}

/** What the door reports as it works (the HTTP layer's metrics). */
export interface ServiceObserver {
  embedded(inputs: number, tokens: number, truncated: number): void;
  batch(rows: number, paddedTokens: number, seconds: number): void;
}

export interface ServiceOptions {
  loadTimeoutMs: number;
  batchTokens: number;
  maxQueuedInputs: number;
  maxQueueWaitMs?: number;
}

const invalid = (message: string, field: ServiceError['field'], code = 'invalid_value'): ServiceError =>
  new ServiceError('invalid_input', message, code, undefined, field);

export class EmbeddingService {
  private readonly host: ModelHost<Pipeline>;
  private readonly batcher: Batcher;

  constructor(opts: ServiceOptions, private readonly observer: ServiceObserver = { embedded: () => {}, batch: () => {} }) {
    this.host = new ModelHost<Pipeline>(opts.loadTimeoutMs);
    this.batcher = new Batcher(
      async (ids, tokens) => (await this.host.get()).run(ids, tokens),
      { batchTokens: opts.batchTokens, maxQueuedInputs: opts.maxQueuedInputs, maxQueueWaitMs: opts.maxQueueWaitMs, onBatch: (b: BatchRun) => observer.batch(b.rows, b.paddedTokens, b.ms / 1000) },
    );
  }

  /** A door to a model already loaded (the CLI's and the benchmarks' case). */
  static over(model: Pipeline, observer?: ServiceObserver): EmbeddingService {
    const door = new EmbeddingService({ loadTimeoutMs: 0, batchTokens: model.batchTokens, maxQueuedInputs: Number.MAX_SAFE_INTEGER }, observer);
    door.start(async () => model);
    return door;
  }

  /** Loads the model in the background; requests wait for it (up to the load timeout). */
  start(load: () => Promise<Pipeline>, onDone?: (state: ModelState<Pipeline>) => void): void {
    this.host.start(async () => {
      const model = await load();
      // A model that stops working is reported (/health 503 with the reason, so the platform
      // restarts the Machine), not left answering every request with a 500.
      model.onLost((why) => this.host.fail(why.message));
      return model;
    }, onDone);
  }

  get state(): ModelState<Pipeline> {
    return this.host.state;
  }

  /** The model, waiting for it while it loads. */
  model(signal?: AbortSignal): Promise<Pipeline> {
    return this.host.get(signal);
  }

  /** Requests waiting for the model to load. */
  get waiting(): number {
    return this.host.waiting;
  }

  /** Inputs waiting in the queue. */
  get queued(): number {
    return this.batcher.queued;
  }

  /** Whether a model run is under way. */
  get busy(): boolean {
    return this.batcher.busy;
  }

  async close(): Promise<void> {
    if (this.host.state.status === 'ready') await this.host.state.model.close();
  }

  /** One vector per input. */
  async embed(inputs: Inputs, opts: EmbedOptions, signal?: AbortSignal): Promise<Embedded> {
    const model = await this.host.get(signal);
    if (opts.dimensions !== undefined && opts.dimensions !== model.dimensions) {
      throw invalid(`dimensions: only ${model.dimensions} is supported; ${model.name} was not trained for shortened (Matryoshka) vectors, so cut vectors would lose quality`, { option: 'dimensions' });
    }
    const { ids, tokens, truncated } = 'texts' in inputs ? await this.tokenizeFor(model, inputs.texts, opts) : this.checkIds(model, inputs.ids);
    const raw = await this.batcher.submit(ids, signal);
    const vectors = opts.normalize ? raw.map((v) => l2Normalize(v)) : raw;
    this.observer.embedded(ids.length, tokens, truncated);
    return { vectors, tokens, truncated };
  }

  /**
   * Per-token vectors (TEI's /embed_all): the last hidden state, not pooled, not normalized.
   * At most `maxTokens` in all: each is `dim` floats in the answer (~15 KB of JSON for 768).
   */
  async tokenVectors(texts: readonly string[], opts: Omit<EmbedOptions, 'normalize' | 'dimensions'>, maxTokens: number, signal?: AbortSignal): Promise<TokenVectors> {
    const model = await this.host.get(signal);
    const { ids, tokens, truncated } = await this.tokenizeFor(model, texts, opts);
    if (tokens > maxTokens) {
      throw new ServiceError('too_large', `${tokens} tokens in all, over the limit of ${maxTokens} token vectors per request (--max-token-vectors); send fewer or shorter texts`, 'too_many_tokens', undefined, {});
    }
    const vectors = await this.batcher.submit(ids, signal, { tokens: true });
    this.observer.embedded(ids.length, tokens, truncated);
    return { vectors, dim: model.dimensions, tokens, truncated };
  }

  /** Cosine similarity of the first text's vector with each of the others'. */
  async similarity(texts: readonly string[], opts: Omit<EmbedOptions, 'normalize' | 'dimensions'>, signal?: AbortSignal): Promise<{ scores: number[]; tokens: number }> {
    const { vectors, tokens } = await this.embed({ texts }, { ...opts, normalize: true }, signal);
    const [source, ...others] = vectors;
    return { scores: others.map((v) => v.reduce((s, x, i) => s + x * source[i], 0)), tokens };
  }

  /** Each text's tokens (TEI's /tokenize), whole: no limit cuts them. The prompt only when asked for. */
  async tokenize(texts: readonly string[], opts: { prompt?: string; instruction?: string; addSpecialTokens: boolean }, signal?: AbortSignal, each?: (t: TokenizedText, index: number) => Promise<void>): Promise<void> {
    const model = await this.host.get(signal);
    for (const [index, raw] of texts.entries()) {
      let text = raw;
      if (opts.prompt !== undefined) {
        try {
          text = withPrompt(model.rules, raw, { prompt: opts.prompt, instruction: opts.instruction });
        } catch (e) {
          throw fromPromptError(e);
        }
      }
      const cps = Array.from(text);
      const enc = model.tokenizer.encode(text, { addSpecialTokens: opts.addSpecialTokens });
      const spans = enc.ids.map((id, i) => (enc.special[i] ? model.tokenizer.piece(id) : cps.slice(enc.offsets[2 * i], enc.offsets[2 * i + 1]).join('')));
      await each?.({ ids: enc.ids, offsets: enc.offsets, special: enc.special, texts: spans }, index);
    }
  }

  /** The model's own ids back to text (TEI's /decode). */
  async decode(ids: readonly number[][], skipSpecialTokens: boolean, signal?: AbortSignal): Promise<string[]> {
    const model = await this.host.get(signal);
    this.checkIds(model, ids);
    return ids.map((row) => model.tokenizer.decode(row, skipSpecialTokens));
  }

  private async tokenizeFor(model: Pipeline, texts: readonly string[], opts: Omit<EmbedOptions, 'normalize' | 'dimensions'>): Promise<{ ids: number[][]; tokens: number; truncated: number }> {
    try {
      return await prepareInputs(model.tokenizer, model.rules, texts, {
        prompt: opts.prompt,
        instruction: opts.instruction,
        lenient: opts.lenientPrompt,
        truncate: opts.truncate,
        direction: opts.direction,
      });
    } catch (e) {
      if (e instanceof InputTooLongError) throw new ServiceError('too_large', e.message, 'input_too_long', undefined, texts.length > 1 ? { input: e.index } : {});
      throw fromPromptError(e);
    }
  }

  /** Model-native ids: each list non-empty and in the vocabulary, cut to the model's limit. */
  private checkIds(model: Pipeline, ids: readonly number[][]): { ids: number[][]; tokens: number; truncated: number } {
    const vocab = model.tokenizer.vocabSize;
    let truncated = 0;
    let tokens = 0;
    const rows = ids.map((row, i) => {
      if (row.length === 0) throw invalid('is an empty list of token ids', { input: i });
      const bad = row.findIndex((id) => !Number.isInteger(id) || id < 0 || id >= vocab);
      if (bad >= 0) throw invalid(`is token id ${row[bad]}, not in this model's vocabulary (0 to ${vocab - 1})`, { input: i, token: bad });
      if (row.length > model.maxTokens) truncated++;
      const kept = row.slice(0, model.maxTokens);
      tokens += kept.length;
      return kept;
    });
    return { ids: rows, tokens, truncated };
  }
}

function fromPromptError(e: unknown): unknown {
  if (!(e instanceof PromptError)) return e;
  return invalid(e.message, { option: e.field === 'instruction' ? 'instruction' : 'prompt' });
}
