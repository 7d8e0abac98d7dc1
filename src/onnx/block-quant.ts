// 4-bit block quantization in the layout of onnxruntime's MatMulNBits (com.microsoft):
// for a [K, N] weight, each column is cut into blocks of `blockSize` rows along K; a block
// stores its codes packed two per byte (low nibble first), one float scale and one 4-bit
// zero point (packed the same way along the blocks of a column).
// w ≈ (code - zeroPoint) * scale.

export interface BlockQuantized {
  k: number;
  n: number;
  blockSize: number;
  blocksPerCol: number;
  /** [n, blocksPerCol, blockSize / 2] */
  codes: Uint8Array;
  /** [n * blocksPerCol] */
  scales: Float32Array;
  /** [n * ceil(blocksPerCol / 2)] */
  zeroPoints: Uint8Array;
}

// Range shrink factors tried per block; the one with the least squared error wins. Clipping
// a few outliers often lowers the error of all the other weights in the block.
const SHRINK = [1, 0.95, 0.9, 0.85, 0.8];

/** Quantizes a row-major [k, n] matrix. Rows past k in the last block count as zeros. */
export function quantize4bit(w: Float32Array, k: number, n: number, blockSize: number): BlockQuantized {
  if (w.length !== k * n) throw new Error(`weight has ${w.length} values, expected ${k}×${n}`);
  if (blockSize < 16 || (blockSize & (blockSize - 1)) !== 0) throw new Error(`block size must be a power of two ≥ 16, got ${blockSize}`);
  const blocksPerCol = Math.ceil(k / blockSize);
  const blob = blockSize / 2;
  const zpBytes = Math.ceil(blocksPerCol / 2);
  const codes = new Uint8Array(n * blocksPerCol * blob);
  const scales = new Float32Array(n * blocksPerCol);
  const zeroPoints = new Uint8Array(n * zpBytes);
  const vals = new Float32Array(blockSize);
  const q = new Uint8Array(blockSize);
  for (let col = 0; col < n; col++) {
    for (let b = 0; b < blocksPerCol; b++) {
      let lo = 0;
      let hi = 0;
      for (let i = 0; i < blockSize; i++) {
        const row = b * blockSize + i;
        const v = row < k ? w[row * n + col] : 0;
        vals[i] = v;
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
      let bestErr = Infinity;
      let bestScale = 1;
      let bestZp = 8;
      for (const f of SHRINK) {
        const range = (hi - lo) * f;
        if (range === 0) {
          bestScale = 1;
          bestZp = 8;
          break;
        }
        const scale = range / 15;
        const zp = Math.min(15, Math.max(0, Math.round((-lo * f) / scale)));
        let err = 0;
        for (let i = 0; i < blockSize; i++) {
          const c = Math.min(15, Math.max(0, Math.round(vals[i] / scale) + zp));
          const d = (c - zp) * scale - vals[i];
          err += d * d;
        }
        if (err < bestErr) {
          bestErr = err;
          bestScale = scale;
          bestZp = zp;
        }
      }
      for (let i = 0; i < blockSize; i++) q[i] = Math.min(15, Math.max(0, Math.round(vals[i] / bestScale) + bestZp));
      const base = (col * blocksPerCol + b) * blob;
      for (let j = 0; j < blob; j++) codes[base + j] = q[2 * j] | (q[2 * j + 1] << 4);
      scales[col * blocksPerCol + b] = bestScale;
      zeroPoints[col * zpBytes + (b >> 1)] |= (b & 1) === 0 ? bestZp : bestZp << 4;
    }
  }
  return { k, n, blockSize, blocksPerCol, codes, scales, zeroPoints };
}

/** The row-major [k, n] matrix the quantized form stands for. */
export function dequantize4bit(bq: BlockQuantized): Float32Array {
  const { k, n, blockSize, blocksPerCol, codes, scales, zeroPoints } = bq;
  const zpBytes = Math.ceil(blocksPerCol / 2);
  const out = new Float32Array(k * n);
  for (let col = 0; col < n; col++) {
    for (let b = 0; b < blocksPerCol; b++) {
      const scale = scales[col * blocksPerCol + b];
      const zpByte = zeroPoints[col * zpBytes + (b >> 1)];
      const zp = (b & 1) === 0 ? zpByte & 15 : zpByte >> 4;
      for (let i = 0; i < blockSize; i++) {
        const row = b * blockSize + i;
        if (row >= k) break;
        const byte = codes[(col * blocksPerCol + b) * (blockSize / 2) + (i >> 1)];
        const c = (i & 1) === 0 ? byte & 15 : byte >> 4;
        out[row * n + col] = (c - zp) * scale;
      }
    }
  }
  return out;
}
