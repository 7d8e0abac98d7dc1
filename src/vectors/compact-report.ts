// How much each compact type loses against float on a sample, as `verify` reports it: the
// share of each query's 10 nearest neighbours (by float cosine) that the type's own ranking
// keeps, and the mean cosine between each vector and what its compact form stands for. The
// type's own ranking is how a vector store would search it: int8/uint8 by the dot product of
// the restored values, binary/ubinary by Hamming distance of the bits.

import { cosine } from '../engine/cosine.js';
import { binary, compactVector, type OutputDtype, OUTPUT_DTYPES, type Quantizer, ubinary } from './compact.js';

export interface CompactLoss {
  dtype: OutputDtype;
  /** Mean share (0..1) of the float top-k found by the type's ranking. */
  topOverlap: number;
  /** Mean cosine of each vector with its restored compact form (binary: the ±1 sign vector). */
  cosine: number;
}

const dot = (a: Float32Array, b: Float32Array): number => a.reduce((s, x, i) => s + x * b[i], 0);

function popcount8(x: number): number {
  let n = 0;
  for (let v = x & 0xff; v !== 0; v &= v - 1) n++;
  return n;
}

function hamming(a: Uint8Array, b: Uint8Array): number {
  let n = 0;
  for (let i = 0; i < a.length; i++) n += popcount8(a[i] ^ b[i]);
  return n;
}

/** What a vector's compact form stands for, as floats. */
function restored(v: Float32Array, dtype: OutputDtype, q: Quantizer): Float32Array {
  if (dtype === 'float') return v;
  if (dtype === 'int8' || dtype === 'uint8') return q.restore(compactVector(v, dtype, q) as Int8Array | Uint8Array);
  const bits = dtype === 'ubinary' ? ubinary(v) : Uint8Array.from(binary(v), (x) => x + 128);
  return Float32Array.from(v, (_, d) => ((bits[d >> 3] >> (7 - (d & 7))) & 1 ? 1 : -1));
}

/** Indexes of the `k` best scores (higher is better), ties by index. */
function topK(scores: readonly number[], k: number): number[] {
  return scores.map((s, i) => [s, i] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]).slice(0, k).map(([, i]) => i);
}

export function compactLoss(queries: readonly Float32Array[], corpus: readonly Float32Array[], quantizer: Quantizer, k = 10): CompactLoss[] {
  const floatTop = queries.map((q) => new Set(topK(corpus.map((c) => dot(q, c)), k)));
  return OUTPUT_DTYPES.filter((d) => d !== 'float').map((dtype) => {
    let overlap = 0;
    queries.forEach((q, qi) => {
      let scores: number[];
      if (dtype === 'binary' || dtype === 'ubinary') {
        const qb = ubinary(q);
        scores = corpus.map((c) => -hamming(qb, ubinary(c)));
      } else {
        const qr = restored(q, dtype, quantizer);
        scores = corpus.map((c) => dot(qr, restored(c, dtype, quantizer)));
      }
      overlap += topK(scores, k).filter((i) => floatTop[qi].has(i)).length / Math.min(k, corpus.length);
    });
    const all = [...queries, ...corpus];
    const cos = all.reduce((s, v) => s + cosine(v, restored(v, dtype, quantizer)), 0) / all.length;
    return { dtype, topOverlap: overlap / queries.length, cosine: cos };
  });
}
