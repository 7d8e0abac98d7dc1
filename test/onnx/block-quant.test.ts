import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dequantize4bit, quantize4bit } from '../../src/onnx/block-quant.js';

function gaussian(n: number, seed: number): Float32Array {
  let s = seed;
  const u = (): number => ((s = (s * 1103515245 + 12345) >>> 0) + 1) / 2 ** 32;
  return Float32Array.from({ length: n }, () => Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u()) * 0.05);
}

test('4-bit blocks: every weight comes back within its block step, shapes follow MatMulNBits', () => {
  const k = 96;
  const n = 5;
  const w = gaussian(k * n, 7);
  const q = quantize4bit(w, k, n, 32);
  assert.equal(q.blocksPerCol, 3);
  assert.equal(q.codes.length, n * 3 * 16);
  assert.equal(q.scales.length, n * 3);
  assert.equal(q.zeroPoints.length, n * 2, 'zero points: two per byte, a column padded to whole bytes');
  const back = dequantize4bit(q);
  let sq = 0;
  let norm = 0;
  for (let r = 0; r < k; r++) {
    for (let c = 0; c < n; c++) {
      const step = q.scales[c * 3 + Math.floor(r / 32)];
      const d = Math.abs(back[r * n + c] - w[r * n + c]);
      // A clipped weight may move by more than half a step, never by more than the clip.
      assert.ok(d <= step * 3.5, `w[${r},${c}] moved by ${d}, step ${step}`);
      sq += d * d;
      norm += w[r * n + c] ** 2;
    }
  }
  assert.ok(Math.sqrt(sq / norm) < 0.12, `relative error ${Math.sqrt(sq / norm)}`);
});

test('4-bit blocks: zeros stay exact, and K that is not a multiple of the block is padded', () => {
  const k = 40;
  const w = new Float32Array(k * 2);
  for (let r = 0; r < k; r++) w[r * 2 + 1] = r % 3 === 0 ? 0 : (r - 20) / 100;
  const q = quantize4bit(w, k, 2, 32);
  assert.equal(q.blocksPerCol, 2);
  const back = dequantize4bit(q);
  for (let r = 0; r < k; r++) {
    assert.equal(back[r * 2], 0, 'an all-zero column is exact');
    if (w[r * 2 + 1] === 0) assert.equal(back[r * 2 + 1], 0, 'zero is on the grid of every block');
  }
  assert.throws(() => quantize4bit(w, k, 2, 24), /power of two/);
});
