// Which int8 weights run, as a pure function of the setting and what the kernel probe saw:
// the choice that keeps vectors exact on CPUs whose u8×s8 kernels saturate (x86 without VNNI).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { chooseInt8Weights, type Int8Kernels } from '../../src/engine/int8-kernels.js';

const EXACT: Int8Kernels = { u8s8Exact: true, probe: { got: 2_072_640, want: 2_072_640 } };
const SATURATING: Int8Kernels = { u8s8Exact: false, probe: { got: 1_048_544, want: 2_072_640 } };

test('auto: int8 weights where u8×s8 is exact, uint8 weights where it saturates; both exact', () => {
  assert.deepEqual({ ...chooseInt8Weights('auto', EXACT), reason: undefined }, { weights: 's8', exact: true, reason: undefined });
  const sat = chooseInt8Weights('auto', SATURATING);
  assert.equal(sat.weights, 'u8');
  assert.equal(sat.exact, true);
  assert.match(sat.reason, /saturates on this CPU \(probe 1,048,544 for 2,072,640, no VNNI\)/);
  assert.match(chooseInt8Weights('auto', EXACT).reason, /exact on this CPU/);
});

test('forced s8 on a saturating CPU runs s8 and says its vectors are off; forced u8 is exact anywhere', () => {
  const s8 = chooseInt8Weights('s8', SATURATING);
  assert.deepEqual([s8.weights, s8.exact], ['s8', false]);
  assert.match(s8.reason, /vectors are off/);
  const s8ok = chooseInt8Weights('s8', EXACT);
  assert.deepEqual([s8ok.weights, s8ok.exact], ['s8', true]);
  assert.equal(s8ok.reason, 'int8 weights as asked; u8×s8 is exact on this CPU');
  assert.equal(chooseInt8Weights('u8', EXACT).reason, 'uint8 weights (u8×u8 kernels) as asked');
  for (const k of [EXACT, SATURATING]) {
    const u8 = chooseInt8Weights('u8', k);
    assert.deepEqual([u8.weights, u8.exact], ['u8', true]);
  }
});
