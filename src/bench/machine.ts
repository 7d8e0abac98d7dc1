// What a benchmark ran on, recorded next to its figures.

import { execFileSync } from 'node:child_process';
import { totalmem } from 'node:os';
import { cpuInfo } from '../cpu.js';
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
