// From one batch of token ids to vectors: pad, look up the word embeddings where the graph
// takes them, run the session, pool.

import type { EmbeddingRows } from './embedding-rows.js';
import type { ModelSession } from './onnx-session.js';
import type { Pooling } from '../model/rules.js';
import { pool } from './pooling.js';

export interface EmbedderOptions {
  /** Padded tokens (rows × longest) per session run. */
  batchTokens: number;
  padId: number;
  /** How token vectors become one (the model's Pooling module; mean when it has none). */
  pooling?: Pooling;
  /** The word-embedding rows, when the graph takes them as an input. */
  rows?: EmbeddingRows;
}

/** A batch as the graph takes it: rows right-padded with `padId`, their mask and token types, [rows, cols] row-major. */
export interface PaddedBatch {
  ids: BigInt64Array;
  mask: BigInt64Array;
  /** Null when none were given (the graph then gets zeros, if it takes them). */
  types: BigInt64Array | null;
  rows: number;
  cols: number;
}

export function padBatch(inputs: readonly number[][], padId: number, types: readonly number[][] | null = null): PaddedBatch {
  const rows = inputs.length;
  const cols = Math.max(...inputs.map((x) => x.length));
  const ids = new BigInt64Array(rows * cols).fill(BigInt(padId));
  const mask = new BigInt64Array(rows * cols);
  const typeIds = types === null ? null : new BigInt64Array(rows * cols);
  inputs.forEach((row, r) => {
    for (let t = 0; t < row.length; t++) {
      ids[r * cols + t] = BigInt(row[t]);
      mask[r * cols + t] = 1n;
      if (typeIds !== null) typeIds[r * cols + t] = BigInt((types as readonly number[][])[r][t]);
    }
  });
  return { ids, mask, types: typeIds, rows, cols };
}

export class Embedder {
  constructor(
    private readonly session: ModelSession,
    private readonly opts: EmbedderOptions,
  ) {}

  get batchTokens(): number {
    return this.opts.batchTokens;
  }

  /**
   * One model run of these inputs as one padded batch (the queue formed it within the budget):
   * per input, in input order, its pooled vector (not normalized), or, where `tokens[i]` is set,
   * all its token vectors back to back ([length × dim], for /embed_all).
   */
  async run(inputs: readonly number[][], tokens: readonly boolean[] | null): Promise<Float32Array[]> {
    const lengths = inputs.map((x) => x.length);
    const { ids, mask, rows, cols } = padBatch(inputs, this.opts.padId);
    const embeds = this.opts.rows ? await this.opts.rows.lookup(ids) : undefined;
    const { hidden, dim } = await this.session.forward(ids, mask, rows, cols, embeds);
    const pooled = pool(this.opts.pooling ?? 'mean', hidden, rows, cols, dim, lengths);
    // Token vectors are copies: `hidden` belongs to this run's output and is not kept.
    return inputs.map((_, r) => (tokens?.[r] ? hidden.slice(r * cols * dim, (r * cols + lengths[r]) * dim) : pooled[r]));
  }
}
