// Compact vectors, exactly as sentence-transformers' `quantize_embeddings` makes them
// (sentence_transformers/quantization.py):
//
//   starts = ranges[0]; steps = (ranges[1] - ranges[0]) / 255          (float32)
//   uint8   = ((e - starts) / steps).astype(uint8)
//   int8    = ((e - starts) / steps - 128).astype(int8)
//   binary  = (packbits(e > 0) - 128).astype(int8)
//   ubinary = packbits(e > 0)
//
// with `ranges` the per-dimension minimum and maximum of calibration embeddings, computed once
// when the model is prepared (prepare/calibrate.ts) so that every request and every Machine
// quantizes the same way. Every step is rounded to float32 as numpy does for float32 arrays,
// and astype's cast truncates toward zero: a value inside the calibration range gets the byte
// sentence-transformers gives it. One deliberate difference: numpy's cast of a value outside
// the range is undefined (on x86 it wraps, so a value just above the maximum becomes one of the
// smallest codes); here a value is first clipped to its dimension's range, so the code is what
// quantize_embeddings gives the clipped vector. Bits are packed per vector, most significant
// first (packbits' order), the last byte padded with zeros.

/** Voyage AI's `output_dtype` values (docs.voyageai.com, embeddings API), which name these. */
export const OUTPUT_DTYPES = ['float', 'int8', 'uint8', 'binary', 'ubinary'] as const;
export type OutputDtype = (typeof OUTPUT_DTYPES)[number];

export type Vector = Float32Array | Int8Array | Uint8Array;

/** Per-dimension ranges of the calibration sample's vectors, as prepared into the manifest. */
export interface Calibration {
  /** How many vectors (texts × prompts) the ranges were taken from. */
  vectors: number;
  /** What the ranges describe: vectors after L2 normalization. */
  normalized: true;
  min: number[];
  max: number[];
}

/** Whether a type needs the calibration ranges. */
export const needsRanges = (dtype: OutputDtype): boolean => dtype === 'int8' || dtype === 'uint8';

/** Elements per vector of `dim` floats in `dtype`. */
export function compactLength(dtype: OutputDtype, dim: number): number {
  return dtype === 'binary' || dtype === 'ubinary' ? Math.ceil(dim / 8) : dim;
}

/** Ranges from calibration vectors: the minimum and maximum of each dimension (float32). */
export function rangesOf(vectors: readonly Float32Array[]): Calibration {
  const dim = vectors[0].length;
  const min = new Float32Array(dim).fill(Infinity);
  const max = new Float32Array(dim).fill(-Infinity);
  for (const v of vectors) {
    for (let d = 0; d < dim; d++) {
      if (v[d] < min[d]) min[d] = v[d];
      if (v[d] > max[d]) max[d] = v[d];
    }
  }
  return { vectors: vectors.length, normalized: true, min: Array.from(min), max: Array.from(max) };
}

/** A quantizer for one calibration: the float32 starts and steps, computed once. */
export class Quantizer {
  private readonly starts: Float32Array;
  private readonly ends: Float32Array;
  private readonly steps: Float32Array;

  constructor(cal: Pick<Calibration, 'min' | 'max'>) {
    this.starts = Float32Array.from(cal.min);
    this.ends = Float32Array.from(cal.max);
    this.steps = new Float32Array(this.starts.length);
    for (let d = 0; d < this.starts.length; d++) this.steps[d] = Math.fround(Math.fround(this.ends[d] - this.starts[d]) / 255);
  }

  get dimensions(): number {
    return this.starts.length;
  }

  /** Codes of `v`: each value clipped to its dimension's range, then bucketed as numpy does. */
  private codes(v: Float32Array, shift: number, lo: number, hi: number, out: Int8Array | Uint8Array): void {
    for (let d = 0; d < v.length; d++) {
      const step = this.steps[d];
      const e = Math.min(this.ends[d], Math.max(this.starts[d], v[d]));
      // A dimension constant in the sample has no width: every value is its start.
      const x = step > 0 ? Math.fround(Math.fround(Math.fround(e - this.starts[d]) / step) - shift) : -shift;
      // NaN (a NaN input) goes to the lowest code; trunc is astype's cast toward zero.
      out[d] = Number.isNaN(x) ? lo : Math.min(hi, Math.max(lo, Math.trunc(x)));
    }
  }

  int8(v: Float32Array): Int8Array {
    const out = new Int8Array(v.length);
    this.codes(v, 128, -128, 127, out);
    return out;
  }

  uint8(v: Float32Array): Uint8Array {
    const out = new Uint8Array(v.length);
    this.codes(v, 0, 0, 255, out);
    return out;
  }

  /** The float each code stands for (the middle of its bucket), for measuring the loss. */
  restore(q: Int8Array | Uint8Array): Float32Array {
    const shift = q instanceof Int8Array ? 128 : 0;
    const out = new Float32Array(q.length);
    for (let d = 0; d < q.length; d++) out[d] = this.starts[d] + (q[d] + shift + 0.5) * this.steps[d];
    return out;
  }
}

/** Sign bits of `v`, packed most significant first (numpy.packbits of v > 0). */
export function ubinary(v: Float32Array): Uint8Array {
  const out = new Uint8Array(Math.ceil(v.length / 8));
  for (let d = 0; d < v.length; d++) if (v[d] > 0) out[d >> 3] |= 0x80 >> (d & 7);
  return out;
}

/** ubinary shifted to int8 (byte − 128), as sentence-transformers' "binary". */
export function binary(v: Float32Array): Int8Array {
  const u = ubinary(v);
  const out = new Int8Array(u.length);
  for (let i = 0; i < u.length; i++) out[i] = u[i] - 128;
  return out;
}

/** `v` in `dtype`; int8 and uint8 need the model's quantizer. */
export function compactVector(v: Float32Array, dtype: OutputDtype, quantizer: Quantizer | undefined): Vector {
  switch (dtype) {
    case 'float':
      return v;
    case 'binary':
      return binary(v);
    case 'ubinary':
      return ubinary(v);
    case 'int8':
    case 'uint8':
      if (quantizer === undefined) throw new Error(`${dtype} needs calibration ranges`);
      return dtype === 'int8' ? quantizer.int8(v) : quantizer.uint8(v);
  }
}

/** The vector's bytes as base64: float32 little-endian, or one byte per int8/uint8 element. */
export function base64Of(v: Vector): string {
  return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64');
}

/** A vector's bytes (as base64Of or a .npy row holds them) as the typed array of its type. */
export function vectorOf(bytes: Uint8Array, dtype: OutputDtype): Vector {
  const copy = new Uint8Array(bytes);
  if (dtype === 'float') return new Float32Array(copy.buffer);
  return dtype === 'int8' || dtype === 'binary' ? new Int8Array(copy.buffer) : copy;
}

/** What base64Of made, back to its typed array. */
export function fromBase64(text: string, dtype: OutputDtype): Vector {
  return vectorOf(Buffer.from(text, 'base64'), dtype);
}
