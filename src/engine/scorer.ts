// A cross-encoder's batch: (query, passage) pairs already joined into one row of ids each, with
// their token types; pad, look up the word embeddings where the graph takes them, run the
// session; per row its raw logits (the activation is the door's: raw_scores asks for none).

import { padBatch } from './embedder.js';
import type { EmbeddingRows } from './embedding-rows.js';
import type { ModelSession } from './onnx-session.js';

export class Scorer {
  constructor(
    private readonly session: ModelSession,
    private readonly padId: number,
    private readonly rows?: EmbeddingRows,
  ) {}

  async run(inputs: readonly number[][], types: readonly number[][] | null): Promise<Float32Array[]> {
    const { ids, mask, types: typeIds, rows, cols } = padBatch(inputs, this.padId, types);
    const embeds = this.rows ? await this.rows.lookup(ids) : undefined;
    const { hidden, dim } = await this.session.forward(ids, mask, rows, cols, embeds, typeIds ?? undefined);
    return inputs.map((_, r) => hidden.slice(r * dim, (r + 1) * dim));
  }
}
