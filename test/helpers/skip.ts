// A test that needs something this machine lacks (qemu, chromium, root, a kernel feature)
// says why it skips. In CI (the CI variable set, as .ci/run runs) it fails instead: CI
// installs everything the suite needs, so a missing tool there is a broken run, not a green one.

import type { TestContext } from 'node:test';

export function skipOrFail(t: TestContext, reason: string): void {
  if (process.env.CI) throw new Error(`this test must run in CI, but: ${reason}`);
  t.skip(reason);
}
