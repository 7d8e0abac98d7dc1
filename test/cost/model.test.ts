import assert from 'node:assert/strict';
import { test } from 'node:test';
import { costRows } from '../../src/cli/cost.js';
import { monthlyCost, type UsageProfile } from '../../src/cost/model.js';
import { runningPerSecond } from '../../src/cost/prices.js';

const base: UsageProfile = {
  wakesPerDay: 10, requestsPerDay: 200, secondsPerRequest: 0.03, idleSeconds: 300, wakeSeconds: 1,
  machine: '512mb', store: 'image', imageGB: 0.5, volumeGB: 1,
};

test('the note\'s scenario as written comes to its $0.21, and at today\'s prices to more', () => {
  const rows = costRows(base);
  assert.equal(rows[0].cost.total.toFixed(2), '0.21');
  const today = rows[1].cost;
  assert.equal(today.volume.toFixed(2), '0.30', '2 GB × $0.15');
  assert.ok(today.rootfs > 0, 'the stopped rootfs is billed');
  assert.ok(today.total > rows[0].cost.total);
  assert.ok(rows[2].cost.total < today.total, 'ortos-embed costs less for the same usage');
});

test('running time follows the profile; storage is billed for the stopped share of the month', () => {
  const c = monthlyCost(base);
  const seconds = 30 * (10 * 301 + 200 * 0.03);
  assert.ok(Math.abs(c.runningMinutes - seconds / 60) < 1e-9);
  assert.ok(Math.abs(c.running - seconds * runningPerSecond('512mb')) < 1e-12);
  assert.ok(c.rootfs < 0.5 * 0.15 && c.rootfs > 0.5 * 0.15 * 0.9);
  assert.equal(c.volume, 0);
  assert.equal(monthlyCost({ ...base, store: 'volume', volumeGB: 1 }).volume, 0.15);
  assert.ok(Math.abs(runningPerSecond('2gb') - 0.0000041) < 0.0000001, 'matches the published ≈ $0.0000041/s');
  assert.throws(() => runningPerSecond('64gb'), /unknown machine size/);
});
