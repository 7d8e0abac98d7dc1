// Exact int8 on every x86 CPU. Every integer-matmul form the prepared int8 graph contains is
// run with extreme values (u8 255 × s8 127, where 16-bit pairs overflow) through the project's
// own choice of weights and session options, and compared with exact integer arithmetic: on
// this CPU, and under an emulated CPU without VNNI, where u8×s8 kernels saturate. Forcing int8
// weights there must fail the same comparison, so the check is known to bite.

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { PROJECT_ROOT } from '../helpers/fixtures.js';
import { checkInt8Kernels, type CheckResult } from '../helpers/int8-kernel-check.js';
import { qemuBinary, runEmulated, SKIP_WITHOUT_QEMU } from '../helpers/emulated-cpu.js';
import { skipOrFail } from '../helpers/skip.js';

const CHECK = join(PROJECT_ROOT, 'build', 'test', 'helpers', 'int8-kernel-check.js');

/** Integer results exactly; float results (scaled) to float32 rounding. */
function exact(r: CheckResult): boolean {
  return Number.isInteger(r.want) && r.op !== 'DynamicQuantizeMatMul' ? r.got === r.want : Math.abs(r.got - r.want) <= 1e-6 * r.want;
}

test('on this CPU: every int8 matmul form gives exact integer results with the weights the project picks', async () => {
  const r = await checkInt8Kernels('auto');
  assert.deepEqual([...new Set(r.results.map((x) => x.op))], ['MatMulInteger', 'MatMulIntegerToFloat', 'DynamicQuantizeMatMul']);
  for (const x of r.results) assert.ok(exact(x), `${x.op}: ${x.got}, exact ${x.want} (weights ${r.weights})`);
  // uint8 weights are exact everywhere.
  for (const x of (await checkInt8Kernels('u8')).results) assert.ok(exact(x), `${x.op} with uint8 weights: ${x.got}, exact ${x.want}`);
});

test('on an emulated CPU without VNNI: the project picks uint8 weights and stays exact; int8 weights there saturate', async (t) => {
  if (qemuBinary() === null) return skipOrFail(t, SKIP_WITHOUT_QEMU);
  const auto = await runEmulated([CHECK, 'auto']);
  assert.equal(auto.code, 0, auto.stderr);
  const a = JSON.parse(auto.stdout) as { weights: string; u8s8Exact: boolean; results: CheckResult[] };
  assert.equal(a.weights, 'u8', 'u8×s8 saturates on this CPU, so uint8 weights are chosen');
  for (const x of a.results) assert.ok(exact(x), `${x.op}: ${x.got}, exact ${x.want}`);
  const forced = await runEmulated([CHECK, 's8']);
  const f = JSON.parse(forced.stdout) as { results: CheckResult[] };
  for (const x of f.results) assert.ok(!exact(x), `${x.op} with int8 weights should saturate here: ${x.got} vs ${x.want}`);
  assert.equal(f.results.find((x) => x.op === 'MatMulInteger')?.got, 1_048_544, 'saturated as documented: 64 × (255 × 127) → 1,048,544');
});
