// The cost model the queue's wait estimate uses, on exact synthetic timings.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RunCost } from '../../src/core/run-cost.js';

const near = (got: number | undefined, want: number, what: string): void => assert.ok(got !== undefined && Math.abs(got - want) < 1e-9, `${what}: ${got}, want ${want}`);

test('nothing known before a run; runs of one size charge all their time per token', () => {
  const c = new RunCost();
  assert.deepEqual([c.cost, c.estimate(3, 100)], [null, null]);
  for (let i = 0; i < 5; i++) c.observe(50, 10 + 0.5 * 50);
  assert.equal(c.cost?.perRun, 0);
  near(c.cost?.perToken, 0.7, 'per token');
  near(c.estimate(2, 100) ?? undefined, 70, 'estimate');
});

test('runs of varied sizes separate the fixed part from the part per token, exactly', () => {
  const c = new RunCost();
  for (const x of [8, 16, 200, 512, 30, 64]) c.observe(x, 5 + 0.5 * x);
  near(c.cost?.perRun, 5, 'per run');
  near(c.cost?.perToken, 0.5, 'per token');
  near(c.estimate(3, 1000) ?? undefined, 515, 'estimate');
});

test('the fixed part last told apart is kept through runs of one size; the per-token part follows them', () => {
  const c = new RunCost();
  for (const x of [8, 16, 200, 512]) c.observe(x, 5 + 0.5 * x);
  for (let i = 0; i < 40; i++) c.observe(12, 5 + 0.5 * 12);
  near(c.cost?.perRun, 5, 'per run kept');
  near(c.cost?.perToken, 0.5, 'per token');
  // The same size turns slower: a run of that size is estimated at what it now takes.
  for (let i = 0; i < 40; i++) c.observe(12, 29);
  assert.ok(Math.abs((c.estimate(1, 12) ?? 0) - 29) < 0.01, `${c.estimate(1, 12)}`);
});

test('recent runs weigh more: after a slowdown the line is the new machine\'s within a few runs', () => {
  const c = new RunCost();
  for (const x of [8, 16, 200, 512]) c.observe(x, 1 + 0.1 * x);
  for (let i = 0; i < 30; i++) for (const x of [10, 100]) c.observe(x, 4 + 0.4 * x);
  assert.ok(Math.abs((c.cost?.perToken ?? 0) - 0.4) < 1e-3, `${c.cost?.perToken}`);
  assert.ok(Math.abs((c.cost?.perRun ?? 0) - 4) < 1e-2, `${c.cost?.perRun}`);
});

test('a line with a negative part falls back to charging everything per token', () => {
  const c = new RunCost();
  // Longer runs much dearer per token than short ones (a line through them crosses below zero).
  for (const [x, ms] of [[10, 1], [100, 100], [10, 1], [100, 100]]) c.observe(x, ms);
  const cost = c.cost;
  assert.equal(cost?.perRun, 0);
  assert.ok(cost !== null && cost.perToken > 0);
  near(c.estimate(1, 110) ?? undefined, 110 * (cost?.perToken ?? 0), 'estimate');
});
