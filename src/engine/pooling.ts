// e5's pooling: the mean of the last hidden state over real (unmasked) tokens, then L2.

/**
 * hidden is [rows, cols, dim] with each row's real tokens first (right padding);
 * returns one vector per row.
 */
export function meanPool(hidden: Float32Array, rows: number, cols: number, dim: number, lengths: readonly number[]): Float32Array[] {
  const out: Float32Array[] = [];
  for (let r = 0; r < rows; r++) {
    const v = new Float32Array(dim);
    const n = lengths[r];
    // Sum in double precision: 512 tokens of float32 lose digits otherwise.
    const acc = new Float64Array(dim);
    for (let t = 0; t < n; t++) {
      const base = (r * cols + t) * dim;
      for (let d = 0; d < dim; d++) acc[d] += hidden[base + d];
    }
    for (let d = 0; d < dim; d++) v[d] = acc[d] / Math.max(1, n);
    out.push(v);
  }
  return out;
}

export function l2Normalize(v: Float32Array): Float32Array {
  let sum = 0;
  for (let i = 0; i < v.length; i++) sum += v[i] * v[i];
  const norm = Math.sqrt(sum);
  if (norm > 0) for (let i = 0; i < v.length; i++) v[i] /= norm;
  return v;
}
