// What the routes share: the model (waited for while loading), the batch queue and the
// metrics. Routes translate their API shapes to these calls and back.

import { Batcher } from '../core/batcher.js';
import { ApiError, badRequest } from './api-error.js';
import { ModelHost } from '../core/model-host.js';
import { l2Normalize } from '../engine/pooling.js';
import type { Pipeline } from '../pipeline/pipeline.js';
import { CL100K_REGULAR, isCl100kId, loadCl100k } from '../tokenizer/cl100k.js';
import { PromptError } from '../model/rules.js';
import { InputTooLongError, prepareInputs } from '../tokenizer/inputs.js';
import type { Metrics } from './metrics.js';

/** How /v1/embeddings reads arrays of token ids (--token-ids). */
export type TokenIdsMode = 'cl100k_base' | 'model' | 'reject';
export const TOKEN_IDS_MODES: readonly TokenIdsMode[] = ['cl100k_base', 'model', 'reject'];

export interface TextRequest {
  texts: string[];
  /** Prompt name (undefined: the model's default). */
  prompt?: string;
  instruction?: string;
  /** A model without prompts ignores `prompt` (OpenAI's input_type) instead of refusing it. */
  lenientPrompt?: boolean;
  /** Where the prompt name and the instruction sit in the body, for errors. */
  promptParam?: string;
  instructionParam?: string;
  normalize: boolean;
  truncate: boolean;
  direction: 'left' | 'right';
  /** Where the texts sit in the body, for errors ("input", "inputs", "inputs.sentences"). */
  param?: string;
}

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

export interface ServiceOptions {
  loadTimeoutMs: number;
  batchTokens: number;
  maxQueuedInputs: number;
  maxQueueWaitMs: number;
}

export class EmbeddingService {
  readonly host: ModelHost<Pipeline>;
  readonly batcher: Batcher;

  constructor(opts: ServiceOptions, private readonly metrics: Metrics) {
    this.host = new ModelHost<Pipeline>(opts.loadTimeoutMs);
    this.batcher = new Batcher(
      async (ids, tokens) => {
        const model = await this.host.get();
        return model.run(ids, tokens);
      },
      { batchTokens: opts.batchTokens, maxQueuedInputs: opts.maxQueuedInputs, maxQueueWaitMs: opts.maxQueueWaitMs, onBatch: (b) => metrics.batch(b.rows, b.paddedTokens, b.ms / 1000) },
    );
  }

  private async finish(ids: number[][], tokens: number, truncated: number, normalize: boolean, signal?: AbortSignal): Promise<Embedded> {
    const raw = await this.batcher.submit(ids, signal);
    const vectors = normalize ? raw.map((v) => l2Normalize(Float32Array.from(v))) : raw;
    this.metrics.embedded(ids.length, tokens, truncated);
    return { vectors, tokens, truncated };
  }

  private async tokenize(req: TextRequest, signal?: AbortSignal): Promise<{ model: Pipeline; ids: number[][]; tokens: number; truncated: number }> {
    const model = await this.host.get(signal);
    try {
      const prepared = await prepareInputs(model.tokenizer, model.rules, req.texts, {
        prompt: req.prompt,
        instruction: req.instruction,
        lenient: req.lenientPrompt,
        truncate: req.truncate,
        direction: req.direction,
      });
      return { model, ...prepared };
    } catch (e) {
      if (e instanceof PromptError) {
        throw badRequest(e.message, e.field === 'instruction' ? (req.instructionParam ?? 'instruction') : (req.promptParam ?? 'prompt_name'));
      }
      if (e instanceof InputTooLongError) {
        const param = req.param ?? 'inputs';
        throw new ApiError(413, e.message, 'invalid_request_error', 'input_too_long', req.texts.length > 1 ? `${param}.${e.index}` : param);
      }
      throw e;
    }
  }

  async embedTexts(req: TextRequest, signal?: AbortSignal): Promise<Embedded> {
    const { ids, tokens, truncated } = await this.tokenize(req, signal);
    return this.finish(ids, tokens, truncated, req.normalize, signal);
  }

  /** Model-native token ids (XLM-R's), cut to the model's limit. */
  async embedTokenIds(ids: number[][], normalize: boolean, signal?: AbortSignal, param = 'input'): Promise<Embedded> {
    const model = await this.host.get(signal);
    const vocab = model.tokenizer.vocabSize;
    let truncated = 0;
    let tokens = 0;
    const rows = ids.map((row, i) => {
      if (row.length === 0) throw badRequest(`${param}[${i}] is an empty list of token ids`, `${param}.${i}`);
      const bad = row.findIndex((id) => !Number.isInteger(id) || id < 0 || id >= vocab);
      if (bad >= 0) throw badRequest(`${param}[${i}][${bad}] is token id ${row[bad]}, not in this model's vocabulary (0 to ${vocab - 1})`, `${param}.${i}.${bad}`);
      if (row.length > model.maxTokens) truncated++;
      const kept = row.slice(0, model.maxTokens);
      tokens += kept.length;
      return kept;
    });
    return this.finish(rows, tokens, truncated, normalize, signal);
  }

  /**
   * Arrays of cl100k_base ids (what OpenAI clients send) back to the texts they encode. A
   * client that splits a long text into several arrays (LangChain: 8191 ids each) may cut a
   * character in two; that character decodes to U+FFFD, as it would for OpenAI.
   */
  async decodeCl100k(ids: number[][], param = 'input'): Promise<string[]> {
    ids.forEach((row, i) => {
      const bad = row.findIndex((id) => !isCl100kId(id));
      if (bad >= 0) {
        throw badRequest(`${param}[${i}][${bad}] is token id ${row[bad]}, not in cl100k_base (0 to ${CL100K_REGULAR - 1} and its 5 special tokens); ` +
          'token ids are read as OpenAI\'s cl100k_base (--token-ids model reads them as this model\'s own)', `${param}.${i}.${bad}`);
      }
    });
    const decode = await loadCl100k();
    return ids.map((row) => decode(row));
  }

  /**
   * Per-token vectors (TEI's /embed_all): the last hidden state, not pooled, not normalized.
   * At most `maxTokens` in all: each is `dim` floats in the answer (~15 KB of JSON for 768).
   */
  async tokenVectors(req: TextRequest, maxTokens: number, signal?: AbortSignal): Promise<TokenVectors> {
    const { model, ids, tokens, truncated } = await this.tokenize(req, signal);
    if (tokens > maxTokens) {
      throw new ApiError(413, `${tokens} tokens in all, over the limit of ${maxTokens} token vectors per request (--max-token-vectors); send fewer or shorter texts`,
        'invalid_request_error', 'too_many_tokens', req.param ?? 'inputs');
    }
    const vectors = await this.batcher.submit(ids, signal, { tokens: true });
    this.metrics.embedded(ids.length, tokens, truncated);
    return { vectors, dim: model.dimensions, tokens, truncated };
  }

  /** Cosine similarity of the first text's vector with each of the others'. */
  async similarity(req: TextRequest, signal?: AbortSignal): Promise<{ scores: number[]; tokens: number }> {
    const { vectors, tokens } = await this.embedTexts({ ...req, normalize: true }, signal);
    const [source, ...others] = vectors;
    return { scores: others.map((v) => v.reduce((s, x, i) => s + x * source[i], 0)), tokens };
  }

  /** Model-native ids back to text (TEI's /decode). */
  async decode(ids: number[][], skipSpecialTokens: boolean, signal?: AbortSignal): Promise<string[]> {
    const model = await this.host.get(signal);
    const vocab = model.tokenizer.vocabSize;
    return ids.map((row, i) => {
      const bad = row.findIndex((id) => !Number.isInteger(id) || id < 0 || id >= vocab);
      if (bad >= 0) throw badRequest(`ids[${i}][${bad}] is token id ${row[bad]}, not in this model's vocabulary (0 to ${vocab - 1})`, `ids.${i}.${bad}`);
      return model.tokenizer.decode(row, skipSpecialTokens);
    });
  }
}
