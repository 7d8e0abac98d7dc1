// The CPU features that decide how int8 kernels behave (VNNI or not), reported next to
// every figure that depends on them: in `verify`, /info and the start-up log.

import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';

const FLAGS = ['avx2', 'fma', 'avx512f', 'avx512bw', 'avx512_vnni', 'avx_vnni', 'amx_int8'];

export interface CpuInfo {
  model: string;
  cores: number;
  flags: string[];
}

let cached: CpuInfo | undefined;
let fingerprint: string | undefined;

/**
 * Everything that decides which kernels (and so which packed weight layouts) onnxruntime
 * picks on this CPU: the model name and every SIMD-related flag.
 */
export function cpuFingerprint(): string {
  if (fingerprint !== undefined) return fingerprint;
  let flags: string[] = [];
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8').split('\n').find((l) => l.startsWith('flags')) ?? '';
    flags = (line.split(':')[1]?.trim().split(/\s+/) ?? []).filter((f) => /avx|sse|fma|vnni|amx|f16c|bmi|popcnt/.test(f)).sort();
  } catch {
    flags = [];
  }
  fingerprint = `${cpus()[0]?.model ?? 'unknown'}|${process.arch}|${flags.join(',')}`;
  return fingerprint;
}

export function cpuInfo(): CpuInfo {
  if (cached) return cached;
  let flags: string[] = [];
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8').split('\n').find((l) => l.startsWith('flags')) ?? '';
    const all = new Set(line.split(':')[1]?.trim().split(/\s+/) ?? []);
    flags = FLAGS.filter((f) => all.has(f));
  } catch {
    flags = [];
  }
  const list = cpus();
  cached = { model: list[0]?.model ?? 'unknown', cores: list.length, flags };
  return cached;
}
