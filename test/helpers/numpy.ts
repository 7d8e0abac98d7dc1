// numpy as an independent reference: Python scripts run with python3 (CI installs Debian's
// python3-numpy), reading JSON on stdin and writing JSON on stdout.

import { spawnSync } from 'node:child_process';
import type { TestContext } from 'node:test';
import { skipOrFail } from './skip.js';

export function hasNumpy(): boolean {
  return spawnSync('python3', ['-c', 'import numpy'], { encoding: 'utf8' }).status === 0;
}

/** True when numpy can run; otherwise skips the test (fails it in CI). */
export function needNumpy(t: TestContext): boolean {
  if (hasNumpy()) return true;
  skipOrFail(t, 'python3 with numpy is not installed (Debian: python3-numpy)');
  return false;
}

export function runPython(script: string, input: unknown): unknown {
  const r = spawnSync('python3', ['-c', script], { input: JSON.stringify(input), encoding: 'utf8', maxBuffer: 256 * 2 ** 20, timeout: 60_000 });
  if (r.status !== 0) throw new Error(`python3 failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout) as unknown;
}
