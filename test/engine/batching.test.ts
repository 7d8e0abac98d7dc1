import assert from 'node:assert/strict';
import { test } from 'node:test';
import { planBatches } from '../../src/engine/batching.js';

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
  assert.deepEqual(batches.map((b) => b.length).sort(), [2, 4, 4]);
});

test('cuts are chosen for the least padding plus run overhead, not greedily', () => {
  // Greedy filling puts 4, 4, 4 and 40 together (4 × 40 = 160 padded tokens); apart they cost
  // 12 + 40 and one more run.
  const lengths = [4, 4, 4, 40];
  assert.deepEqual(planBatches(lengths, 256, Infinity, 8), [[0, 1, 2], [3]]);
  // With no overhead at all, every input runs alone (no padding); with a huge one, all together.
  assert.equal(planBatches([3, 5, 7, 9], 256, Infinity, 0).length, 4);
  assert.equal(planBatches([3, 5, 7, 9], 256, Infinity, 1000).length, 1);
});

test('the plan never pads more than greedy filling would, on real-looking lengths', () => {
  let seed = 3;
  const rand = (): number => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
  for (let trial = 0; trial < 50; trial++) {
    const lengths = Array.from({ length: 1 + Math.floor(rand() * 64) }, () => 3 + Math.floor(rand() ** 3 * 200));
    const cost = (groups: number[][]): number => groups.reduce((s, g) => s + g.length * Math.max(...g.map((i) => lengths[i])) + 8, 0);
    const greedy: number[][] = [];
    for (const i of [...lengths.keys()].sort((a, b) => lengths[a] - lengths[b] || a - b)) {
      const last = greedy.at(-1);
      if (last && (last.length + 1) * lengths[i] <= 256) last.push(i);
      else greedy.push([i]);
    }
    assert.ok(cost(planBatches(lengths, 256)) <= cost(greedy), `trial ${trial}`);
  }
});

test('exact plans: ties in length keep input order; a tie in cost takes the bigger group (fewer runs)', async () => {
  const { byLength } = await import('../../src/engine/batching.js');
  assert.deepEqual(byLength([3, 1, 3, 3, 1]), [1, 4, 0, 2, 3]);
  const ties = Array.from({ length: 300 }, (_, i) => (i % 3 === 0 ? 7 : 5));
  const want = [...ties.keys()].filter((i) => ties[i] === 5).concat([...ties.keys()].filter((i) => ties[i] === 7));
  assert.deepEqual(byLength(ties), want, 'a long list keeps input order among equal lengths too');
  // 4 and 12: together 2 × 12 + 8 = 32, apart 4 + 8 + 12 + 8 = 32: one group.
  assert.deepEqual(planBatches([4, 12], 64), [[0, 1]]);
  // Two short and two long: the short ones together, the long ones together.
  assert.deepEqual(planBatches([30, 2, 30, 3], 64), [[1, 3], [0, 2]]);
  assert.deepEqual(planBatches([5, 5, 20, 20], 40), [[0, 1], [2, 3]]);
  assert.deepEqual(planBatches([], 64), []);
});
