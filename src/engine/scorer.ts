// A cross-encoder's batch: (query, passage) pairs already joined into one row of ids each, with
// their token types; pad, look up the word embeddings where the graph takes them, run the
// session; per row its raw logits (the activation is the door's: raw_scores asks for none).

import type { EmbeddingRows } from './embedding-rows.js';
import type { ModelSession } from './onnx-session.js';

export class Scorer {
  constructor(
    private readonly session: ModelSession,
    private readonly padId: number,
    private readonly rows?: EmbeddingRows,
  ) {}

  async run(inputs: readonly number[][], types: readonly number[][] | null): Promise<Float32Array[]> {
    const rows = inputs.length;
    const cols = Math.max(...inputs.map((x) => x.length));
    const ids = new BigInt64Array(rows * cols).fill(BigInt(this.padId));
    const mask = new BigInt64Array(rows * cols);
    const typeIds = new BigInt64Array(rows * cols);
    inputs.forEach((row, r) => {
      for (let t = 0; t < row.length; t++) {
        ids[r * cols + t] = BigInt(row[t]);
        mask[r * cols + t] = 1n;
        if (types !== null) typeIds[r * cols + t] = BigInt(types[r][t]);
      }
    });
    const embeds = this.rows ? await this.rows.lookup(ids) : undefined;
    const { hidden, dim } = await this.session.forward(ids, mask, rows, cols, embeds, typeIds);
    return inputs.map((_, r) => hidden.slice(r * dim, (r + 1) * dim));
  }
}
