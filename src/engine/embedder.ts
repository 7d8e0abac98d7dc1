// From token ids to vectors: plan batches by padded-token budget, run the session, pool.

import { planBatches } from './batching.js';
import type { EmbeddingRows } from './embedding-rows.js';
import type { ModelSession } from './onnx-session.js';
import type { Pooling } from '../model/rules.js';
import { l2Normalize, pool } from './pooling.js';

export interface EmbedderOptions {
  /** Padded tokens (rows × longest) per session run. */
  batchTokens: number;
  padId: number;
  /** How token vectors become one (the model's Pooling module; mean when it has none). */
  pooling?: Pooling;
  /** The word-embedding rows, when the graph takes them as an input. */
  rows?: EmbeddingRows;
}

export interface BatchStats {
  rows: number;
  paddedTokens: number;
}

export class Embedder {
  constructor(
    private readonly session: ModelSession,
    private readonly opts: EmbedderOptions,
  ) {}

  /** One vector per input, in input order. */
  async embedIds(inputs: readonly number[][], normalize = true, onBatch?: (s: BatchStats) => void): Promise<Float32Array[]> {
    const out = await this.run(inputs, null, onBatch);
    return normalize ? out.map(l2Normalize) : out;
  }

  /**
   * Per input, in input order: its pooled vector (not normalized), or, where
   * `tokens[i]` is set, all its token vectors back to back ([length × dim], for /embed_all).
   */
  async run(inputs: readonly number[][], tokens: readonly boolean[] | null, onBatch?: (s: BatchStats) => void): Promise<Float32Array[]> {
    const lengths = inputs.map((x) => x.length);
    const out = new Array<Float32Array>(inputs.length);
    for (const group of planBatches(lengths, this.opts.batchTokens)) {
      const rows = group.length;
      const cols = Math.max(...group.map((i) => lengths[i]));
      const ids = new BigInt64Array(rows * cols).fill(BigInt(this.opts.padId));
      const mask = new BigInt64Array(rows * cols);
      group.forEach((input, r) => {
        const row = inputs[input];
        for (let t = 0; t < row.length; t++) {
          ids[r * cols + t] = BigInt(row[t]);
          mask[r * cols + t] = 1n;
        }
      });
      const embeds = this.opts.rows ? await this.opts.rows.lookup(ids) : undefined;
      const { hidden, dim } = await this.session.forward(ids, mask, rows, cols, embeds);
      const pooled = pool(this.opts.pooling ?? 'mean', hidden, rows, cols, dim, group.map((i) => lengths[i]));
      group.forEach((input, r) => {
        // A copy: `hidden` belongs to this run's output and is not kept.
        out[input] = tokens?.[input] ? hidden.slice(r * cols * dim, (r * cols + lengths[input]) * dim) : pooled[r];
      });
      onBatch?.({ rows, paddedTokens: rows * cols });
    }
    return out;
  }
}
