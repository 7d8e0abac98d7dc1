// Vectors compared element by element, not by cosine: a cosine cannot see a wrong length
// (a missing L2 normalization) and hides small systematic errors.

import assert from 'node:assert/strict';

export function maxAbsDiff(got: ArrayLike<number>, want: ArrayLike<number>): number {
  let worst = 0;
  for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]));
  return worst;
}

/** Same length, and every element within `tolerance` (float32 rounding by default). */
export function assertVector(got: ArrayLike<number>, want: ArrayLike<number>, what: string, tolerance = 2e-6): void {
  assert.equal(got.length, want.length, `${what}: length`);
  const worst = maxAbsDiff(got, want);
  assert.ok(worst <= tolerance, `${what}: max |diff| ${worst} over ${tolerance}`);
}
