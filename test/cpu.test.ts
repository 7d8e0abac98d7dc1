import assert from 'node:assert/strict';
import { availableParallelism } from 'node:os';
import { test } from 'node:test';
import { cpuFingerprint, cpuInfo, cpusFromQuota, usableCores } from '../src/cpu.js';

test('a CPU quota caps the thread default; no quota leaves the affinity count', () => {
  assert.equal(cpusFromQuota(100000, 100000), 1);
  assert.equal(cpusFromQuota(150000, 100000), 2);
  assert.equal(cpusFromQuota(-1, 100000), null);
  assert.equal(cpusFromQuota(50000, 0), null);
  const n = usableCores();
  assert.ok(n >= 1 && n <= availableParallelism());
});

test('CPU facts for logs and the packed-weight guard', () => {
  const info = cpuInfo();
  assert.ok(info.cores >= 1);
  assert.ok(cpuFingerprint().includes(process.arch));
});
