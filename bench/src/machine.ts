// What a benchmark ran on, recorded next to its figures.

import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { totalmem } from 'node:os';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../../test/helpers/fixtures.js';
import { cpuInfo } from '../../src/cpu.js';
import { createRequire } from 'node:module';

export interface MachineInfo {
  date: string;
  cpu: string;
  cores: number;
  memoryGiB: number;
  flags: string[];
  node: string;
  onnxruntime: string | null;
  root: boolean;
  taskset: boolean;
}

export function hasTaskset(): boolean {
  try {
    execFileSync('taskset', ['-c', '0', 'true'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export function machineInfo(): MachineInfo {
  let ort: string | null = null;
  try {
    ort = (createRequire(import.meta.url)('onnxruntime-node/package.json') as { version: string }).version;
  } catch {
    ort = null;
  }
  return {
    date: new Date().toISOString(),
    cpu: cpuInfo().model,
    cores: cpuInfo().cores,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    flags: cpuInfo().flags,
    node: process.version,
    onnxruntime: ort,
    root: process.getuid?.() === 0,
    taskset: hasTaskset(),
  };
}

/** Drops the page cache when running as root; returns whether it did. */
export function dropCaches(): boolean {
  if (process.getuid?.() !== 0) return false;
  try {
    execFileSync('sh', ['-c', 'sync; echo 3 > /proc/sys/vm/drop_caches'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * Writes bench/results/<name>-<date>T<hhmm>.json and returns its path: a rerun on the same day
 * adds a file rather than replacing the one a figure in the README points to.
 */
export function writeResult(name: string, machine: MachineInfo, data: unknown): string {
  const dir = join(PROJECT_ROOT, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const stamp = machine.date.slice(0, 19).replace(/:/g, '');
  const file = join(dir, `${name}-${stamp}.json`);
  writeFileSync(file, JSON.stringify(data, null, 2) + '\n');
  return file;
}
