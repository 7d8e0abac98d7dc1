// Pooling, as sentence-transformers' models/Pooling.py computes it: the mean of the last
// hidden state over real (unmasked) tokens (e5), the first token (CLS: bge-m3), or the last
// real token; then, where asked, L2.

import type { Pooling } from '../model/rules.js';

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

/** One vector per row by `mode`; rows are right-padded, `lengths[r]` real tokens each. */
export function pool(mode: Pooling, hidden: Float32Array, rows: number, cols: number, dim: number, lengths: readonly number[]): Float32Array[] {
  if (mode === 'mean') return meanPool(hidden, rows, cols, dim, lengths);
  const out: Float32Array[] = [];
  for (let r = 0; r < rows; r++) {
    const t = mode === 'cls' ? 0 : Math.max(0, lengths[r] - 1);
    out.push(hidden.slice((r * cols + t) * dim, (r * cols + t + 1) * dim));
  }
  return out;
}
