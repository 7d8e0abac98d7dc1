import assert from 'node:assert/strict';
import { test } from 'node:test';
import { l2Normalize, meanPool, pool } from '../../src/engine/pooling.js';

test('mean pooling averages only the real tokens of each row', () => {
  // 2 rows × 3 columns × dim 2; row 0 has 2 real tokens, row 1 has 3.
  const hidden = Float32Array.from([1, 2, 3, 4, 100, 100, 1, 1, 2, 2, 3, 3]);
  const [a, b] = meanPool(hidden, 2, 3, 2, [2, 3]);
  assert.deepEqual(Array.from(a), [2, 3]);
  assert.deepEqual(Array.from(b), [2, 2]);
});

test('L2 normalization gives unit norm and leaves a zero vector alone', () => {
  const v = l2Normalize(Float32Array.from([3, 4]));
  assert.deepEqual(Array.from(v), [0.6000000238418579, 0.800000011920929]);
  assert.deepEqual(Array.from(l2Normalize(new Float32Array(3))), [0, 0, 0]);
});

test('each pooling mode picks its own tokens: mean of the real ones, the first (cls), the last real one (lasttoken)', () => {
  // 2 rows × 3 columns × dim 2, right-padded: row 0 has 2 real tokens, row 1 has 3.
  const hidden = Float32Array.from([1, 2, 3, 4, 100, 100, 5, 6, 7, 8, 9, 10]);
  assert.deepEqual(pool('mean', hidden, 2, 3, 2, [2, 3]).map((v) => Array.from(v)), [[2, 3], [7, 8]]);
  assert.deepEqual(pool('cls', hidden, 2, 3, 2, [2, 3]).map((v) => Array.from(v)), [[1, 2], [5, 6]]);
  assert.deepEqual(pool('lasttoken', hidden, 2, 3, 2, [2, 3]).map((v) => Array.from(v)), [[3, 4], [9, 10]], 'the last real token, not the padding');
  // A pooled vector is a copy: normalizing it in place must not change the hidden state.
  const [first] = pool('cls', hidden, 2, 3, 2, [2, 3]);
  l2Normalize(first);
  assert.equal(hidden[0], 1);
});

test('L2 normalization of a long float32 vector: unit length to float32 rounding', () => {
  const v = Float32Array.from({ length: 768 }, (_, i) => Math.sin(i) * (i % 7));
  l2Normalize(v);
  assert.ok(Math.abs(Math.hypot(...v) - 1) < 1e-6);
});
