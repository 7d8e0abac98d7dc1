// What a benchmark ran on, recorded next to its figures.

import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
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

function interestingFlags(): string[] {
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8').split('\n').find((l) => l.startsWith('flags')) ?? '';
    const all = new Set(line.split(':')[1]?.trim().split(/\s+/) ?? []);
    return ['avx2', 'avx512f', 'avx512_vnni', 'avx_vnni', 'amx_int8', 'fma'].filter((f) => all.has(f));
  } catch {
    return [];
  }
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
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    flags: interestingFlags(),
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
