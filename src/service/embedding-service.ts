// The one door to the model, for the CLI, the HTTP routes and the benchmarks alike: texts or
// token ids and a request's options in; prompts, tokenization and truncation, the embedding
// cache, the shared queue (which batches once), pooling and one L2 normalization; a typed
// result or a ServiceError (core/errors.ts) out. It knows nothing of HTTP: the routes turn its
// errors' fields into body paths and statuses. Tokenizing and the cache need only the model's
// text side and the graph chosen, which the loader reports early: a request the cache answers
// in full does not wait for the session.

import type { EmbeddingCache } from '../cache/embedding-cache.js';
import { modelIdentity } from '../cache/identity.js';
import { Batcher, EMBED_MODEL, type BatchRun } from '../core/batcher.js';
import { ServiceError } from '../core/errors.js';
import { ModelHost, type ModelState } from '../core/model-host.js';
import { l2Normalize } from '../engine/pooling.js';
import { PromptError } from '../model/rules.js';
import type { EarlyModel, Pipeline } from '../pipeline/pipeline.js';
import type { ModelText } from '../pipeline/model-text.js';
import { InputTooLongError, prepareInputs, withPrompt } from '../tokenizer/inputs.js';
import { compactLength, compactVector, needsRanges, type OutputDtype, type Vector } from '../vectors/compact.js';

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
  /** The embedding cache: used (default), skipped on read but written (`refresh`), or not at all (`bypass`). */
  cache?: 'use' | 'refresh' | 'bypass';
  /** Compact vectors (vectors/compact.ts); float by default. */
  dtype?: OutputDtype;
}

/** Texts, or the model's own token ids (cut to its limit, no prompt added). */
export type Inputs = { texts: readonly string[] } | { ids: readonly number[][] };

export interface Embedded<V extends Vector = Vector> {
  /** Float32Array for float; Int8Array for int8 and binary; Uint8Array for uint8 and ubinary. */
  vectors: V[];
  tokens: number;
  truncated: number;
  /** Inputs answered from the embedding cache. */
  cached: number;
  /** The model's name (known before its session is open). */
  model: string;
}

export interface TokenVectors {
  /** Per input: its token vectors back to back, `dim` elements each. */
  vectors: Vector[];
  /** Elements per token vector (the model's dimensions, or bytes of packed bits). */
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
  cache?: EmbeddingCache;
}

/** What a request needs before the model runs: its text side, and its identity for the cache. */
interface Known {
  text: ModelText;
  identity: Buffer;
}

const invalid = (message: string, field: ServiceError['field'], code = 'invalid_value'): ServiceError =>
  new ServiceError('invalid_input', message, code, undefined, field);

export class EmbeddingService {
  private readonly host: ModelHost<Pipeline, Known>;
  private readonly batcher: Batcher;
  /** Other models whose runs take turns in this queue (a reranker), by their key. */
  private readonly others = new Map<string, (ids: number[][], types: number[][] | null) => Promise<Float32Array[]>>();
  readonly cache: EmbeddingCache | undefined;

  constructor(opts: ServiceOptions, private readonly observer: ServiceObserver = { embedded: () => {}, batch: () => {} }) {
    this.host = new ModelHost<Pipeline, Known>(opts.loadTimeoutMs);
    this.cache = opts.cache?.enabled === true ? opts.cache : undefined;
    this.batcher = new Batcher(
      async (ids, tokens, of) => {
        if (of.model === EMBED_MODEL) return (await this.host.get()).run(ids, tokens);
        const other = this.others.get(of.model);
        if (other === undefined) throw new Error(`no model "${of.model}" shares the queue`);
        return other(ids, of.types);
      },
      { batchTokens: opts.batchTokens, maxQueuedInputs: opts.maxQueuedInputs, maxQueueWaitMs: opts.maxQueueWaitMs, onBatch: (b: BatchRun) => observer.batch(b.rows, b.paddedTokens, b.ms / 1000) },
    );
  }

  /** A door to a model already loaded (the CLI's and the benchmarks' case). */
  static over(model: Pipeline, observer?: ServiceObserver, cache?: EmbeddingCache): EmbeddingService {
    const door = new EmbeddingService({ loadTimeoutMs: 0, batchTokens: model.batchTokens, maxQueuedInputs: Number.MAX_SAFE_INTEGER, cache }, observer);
    door.start(async () => model);
    return door;
  }

  /**
   * Loads the model in the background; requests wait for it (up to the load timeout), or for
   * what `load` reports early, if they need no more.
   */
  start(load: (early: (known: EarlyModel) => void) => Promise<Pipeline>, onDone?: (state: ModelState<Pipeline>) => void): void {
    this.host.start(async (tell) => {
      const model = await load((known) => tell(this.knownOf(known.text, known.graph)));
      if (model.task === 'rerank') {
        await model.close();
        throw new Error(`${model.name} is a cross-encoder (a reranker), not an embedding model: serve it with --rerank-model-dir or --rerank-model beside an embedding model`);
      }
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

  /**
   * Lets another model's runs take turns in this queue, under the same token budget: one run at
   * a time on the machine, requests of either model served in turn. Returns its submit.
   */
  shareQueue(model: string, run: (ids: number[][], types: number[][] | null) => Promise<Float32Array[]>): (ids: readonly number[][], types: readonly number[][], signal?: AbortSignal) => Promise<Float32Array[]> {
    this.others.set(model, run);
    return (ids, types, signal) => this.batcher.submit(ids, signal, { model, types });
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

  private knownOf(text: ModelText, graph: string): Known {
    return { text, identity: modelIdentity(text.manifestHash, graph) };
  }

  /** The text side and identity: early while the model loads, else from the model. */
  private async known(signal?: AbortSignal): Promise<Known> {
    const got = await this.host.early(signal);
    return 'part' in got ? got.part : this.knownOf(got.model.text, got.model.graph);
  }

  /** One vector per input: float unless `opts.dtype` asks for a compact type. */
  async embed(inputs: Inputs, opts: EmbedOptions & { dtype?: 'float' }, signal?: AbortSignal): Promise<Embedded<Float32Array>>;
  async embed(inputs: Inputs, opts: EmbedOptions, signal?: AbortSignal): Promise<Embedded>;
  async embed(inputs: Inputs, opts: EmbedOptions, signal?: AbortSignal): Promise<Embedded> {
    const cache = opts.cache === 'bypass' ? undefined : this.cache;
    // Without a cache nothing can be answered before the model: wait for it, as always.
    const { text, identity } = cache !== undefined ? await this.known(signal) : await this.host.get(signal).then((m) => this.knownOf(m.text, m.graph));
    if (opts.dimensions !== undefined && opts.dimensions !== text.dimensions) {
      throw invalid(`dimensions: only ${text.dimensions} is supported; ${text.name} was not trained for shortened (Matryoshka) vectors, so cut vectors would lose quality`, { option: 'dimensions' });
    }
    const dtype = opts.dtype ?? 'float';
    if (needsRanges(dtype)) {
      if (!opts.normalize) throw invalid(`${dtype} vectors are made from normalized vectors (their ranges were calibrated on them): drop normalize: false, or ask for float`, { option: 'normalize' });
      if (text.quantizer === undefined) throw invalid(`${dtype}: this prepared model has no calibration ranges; prepare it again with this version`, { option: 'dtype' });
    }
    const { ids, tokens, truncated } = 'texts' in inputs ? await this.tokenizeFor(text, inputs.texts, opts) : this.checkIds(text, inputs.ids);
    let raw: Array<Float32Array | undefined>;
    let cached = 0;
    if (cache === undefined) {
      raw = await this.batcher.submit(ids, signal);
    } else {
      raw = opts.cache === 'refresh' ? ids.map(() => undefined) : cache.lookup(identity, ids);
      const missing = raw.flatMap((v, i) => (v === undefined ? [i] : []));
      cached = ids.length - missing.length;
      if (missing.length > 0) {
        const rows = missing.map((i) => ids[i]);
        const computed = await this.batcher.submit(rows, signal);
        cache.store(identity, rows, computed);
        missing.forEach((i, k) => (raw[i] = computed[k]));
      }
    }
    const quantizer = text.quantizer;
    const vectors = (raw as Float32Array[]).map((v) => compactVector(opts.normalize ? l2Normalize(v) : v, dtype, quantizer));
    this.observer.embedded(ids.length, tokens, truncated);
    return { vectors, tokens, truncated, cached, model: text.name };
  }

  /**
   * Per-token vectors (TEI's /embed_all): the last hidden state, not pooled, not normalized.
   * At most `maxTokens` in all: each is `dim` floats in the answer (~15 KB of JSON for 768).
   */
  async tokenVectors(texts: readonly string[], opts: Omit<EmbedOptions, 'normalize' | 'dimensions'>, maxTokens: number, signal?: AbortSignal): Promise<TokenVectors> {
    const dtype = opts.dtype ?? 'float';
    // Token vectors are neither pooled nor normalized: the ranges calibrated on sentence vectors do not fit them.
    if (needsRanges(dtype)) throw invalid(`${dtype} is for sentence vectors (its ranges were calibrated on them); token vectors come as float, binary or ubinary`, { option: 'dtype' });
    const model = await this.host.get(signal);
    const { ids, tokens, truncated } = await this.tokenizeFor(model.text, texts, opts);
    if (tokens > maxTokens) {
      throw new ServiceError('too_large', `${tokens} tokens in all, over the limit of ${maxTokens} token vectors per request (--max-token-vectors); send fewer or shorter texts`, 'too_many_tokens', undefined, {});
    }
    const raw = await this.batcher.submit(ids, signal, { tokens: true });
    this.observer.embedded(ids.length, tokens, truncated);
    const dim = model.dimensions;
    if (dtype === 'float') return { vectors: raw, dim, tokens, truncated };
    const width = compactLength(dtype, dim);
    const vectors = raw.map((all) => {
      const out = dtype === 'binary' ? new Int8Array((all.length / dim) * width) : new Uint8Array((all.length / dim) * width);
      for (let t = 0; t < all.length / dim; t++) out.set(compactVector(all.subarray(t * dim, (t + 1) * dim), dtype, undefined), t * width);
      return out;
    });
    return { vectors, dim: width, tokens, truncated };
  }

  /** Cosine similarity of the first text's vector with each of the others'. */
  async similarity(texts: readonly string[], opts: Omit<EmbedOptions, 'normalize' | 'dimensions'>, signal?: AbortSignal): Promise<{ scores: number[]; tokens: number; cached: number }> {
    const { vectors, tokens, cached } = await this.embed({ texts }, { ...opts, normalize: true, dtype: 'float' }, signal);
    const [source, ...others] = vectors;
    return { scores: others.map((v) => v.reduce((s, x, i) => s + x * source[i], 0)), tokens, cached };
  }

  /** Each text's tokens (TEI's /tokenize), whole: no limit cuts them. The prompt only when asked for. Needs no session. */
  async tokenize(texts: readonly string[], opts: { prompt?: string; instruction?: string; addSpecialTokens: boolean }, signal?: AbortSignal, each?: (t: TokenizedText, index: number) => Promise<void>): Promise<void> {
    const { text: model } = await this.known(signal);
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

  /** The model's own ids back to text (TEI's /decode). Needs no session. */
  async decode(ids: readonly number[][], skipSpecialTokens: boolean, signal?: AbortSignal): Promise<string[]> {
    const { text: model } = await this.known(signal);
    this.checkIds(model, ids);
    return ids.map((row) => model.tokenizer.decode(row, skipSpecialTokens));
  }

  private async tokenizeFor(model: ModelText, texts: readonly string[], opts: Omit<EmbedOptions, 'normalize' | 'dimensions'>): Promise<{ ids: number[][]; tokens: number; truncated: number }> {
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
  private checkIds(model: ModelText, ids: readonly number[][]): { ids: number[][]; tokens: number; truncated: number } {
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
