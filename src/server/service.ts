// What the routes share: the model (waited for while loading), the batch queue and the
// metrics. Routes translate their API shapes to these calls and back.

import { Batcher } from '../core/batcher.js';
import { ApiError } from '../core/errors.js';
import { ModelHost } from '../core/model-host.js';
import { l2Normalize } from '../engine/pooling.js';
import type { Pipeline } from '../pipeline/pipeline.js';
import { InputTooLongError, prepareInputs, type InputType } from '../tokenizer/e5-input.js';
import type { Metrics } from './metrics.js';

export interface TextRequest {
  texts: string[];
  inputType: InputType;
  normalize: boolean;
  truncate: boolean;
  direction: 'left' | 'right';
}

export interface Embedded {
  vectors: Float32Array[];
  tokens: number;
  truncated: number;
}

export class EmbeddingService {
  readonly host: ModelHost<Pipeline>;
  readonly batcher: Batcher;

  constructor(
    loadTimeoutMs: number,
    batchTokens: number,
    maxQueuedInputs: number,
    maxQueueWaitMs: number,
    private readonly metrics: Metrics,
  ) {
    this.host = new ModelHost<Pipeline>(loadTimeoutMs);
    this.batcher = new Batcher(
      async (ids) => {
        const model = await this.host.get();
        return model.embedIds(ids, false);
      },
      { batchTokens, maxQueuedInputs, maxQueueWaitMs, onBatch: (b) => metrics.batch(b.rows, b.paddedTokens, b.ms / 1000) },
    );
  }

  private async finish(ids: number[][], tokens: number, truncated: number, normalize: boolean, signal?: AbortSignal): Promise<Embedded> {
    const raw = await this.batcher.submit(ids, signal);
    const vectors = normalize ? raw.map((v) => l2Normalize(Float32Array.from(v))) : raw;
    this.metrics.embedded(ids.length, tokens, truncated);
    return { vectors, tokens, truncated };
  }

  async embedTexts(req: TextRequest, signal?: AbortSignal): Promise<Embedded> {
    const model = await this.host.get(signal);
    let prepared;
    try {
      prepared = prepareInputs(model.tokenizer, req.texts, {
        inputType: req.inputType,
        truncate: req.truncate,
        direction: req.direction,
        maxTokens: model.maxTokens,
      });
    } catch (e) {
      if (e instanceof InputTooLongError) {
        throw new ApiError(413, e.message, 'invalid_request_error', 'input_too_long', req.texts.length > 1 ? `inputs.${e.index}` : 'inputs');
      }
      throw e;
    }
    return this.finish(prepared.ids, prepared.tokens, prepared.truncated, req.normalize, signal);
  }

  async embedTokenIds(ids: number[][], normalize: boolean, signal?: AbortSignal): Promise<Embedded> {
    const model = await this.host.get(signal);
    const vocab = model.tokenizer.vocabSize;
    let truncated = 0;
    let tokens = 0;
    const rows = ids.map((row, i) => {
      if (row.length === 0) throw new ApiError(400, `input ${i} is an empty token list`, 'invalid_request_error', 'invalid_value', `input.${i}`);
      const bad = row.find((id) => id >= vocab);
      if (bad !== undefined) throw new ApiError(400, `input ${i} has token id ${bad}, outside the vocabulary of ${vocab}`, 'invalid_request_error', 'invalid_value', `input.${i}`);
      if (row.length > model.maxTokens) truncated++;
      const kept = row.slice(0, model.maxTokens);
      tokens += kept.length;
      return kept;
    });
    return this.finish(rows, tokens, truncated, normalize, signal);
  }
}
