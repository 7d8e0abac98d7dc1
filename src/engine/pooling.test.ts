import assert from 'node:assert/strict';
import { test } from 'node:test';
import { l2Normalize, meanPool } from './pooling.js';

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
