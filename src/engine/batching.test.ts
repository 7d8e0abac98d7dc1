import assert from 'node:assert/strict';
import { test } from 'node:test';
import { planBatches } from './batching.js';

test('every input lands in exactly one batch, sorted by length, within the padded-token budget', () => {
  const lengths = [5, 100, 7, 30, 30, 12, 512, 3, 64, 64, 64, 64, 8];
  const batches = planBatches(lengths, 256);
  const seen = batches.flat().sort((a, b) => a - b);
  assert.deepEqual(seen, lengths.map((_, i) => i));
  for (const b of batches) {
    const longest = Math.max(...b.map((i) => lengths[i]));
    assert.ok(b.length === 1 || b.length * longest <= 256, `batch ${b} pads to ${b.length * longest}`);
  }
  const order = batches.flat().map((i) => lengths[i]);
  assert.deepEqual(order, [...order].sort((a, b) => a - b));
});

test('an input longer than the budget still runs, alone', () => {
  assert.deepEqual(planBatches([600, 4, 4], 256), [[1, 2], [0]]);
});

test('maxRows caps a batch of many short inputs', () => {
  const batches = planBatches(new Array(10).fill(2), 1000, 4);
  assert.deepEqual(batches.map((b) => b.length), [4, 4, 2]);
});
