// The CPU features that decide how int8 kernels behave (VNNI or not), reported next to
// every figure that depends on them: in `verify`, /info and the start-up log.

import { readFileSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';

const FLAGS = ['avx2', 'fma', 'avx512f', 'avx512bw', 'avx512_vnni', 'avx_vnni', 'amx_int8'];

export interface CpuInfo {
  model: string;
  cores: number;
  flags: string[];
}

let cached: CpuInfo | undefined;
let allFlags: Set<string> | undefined;

/** The CPU's flags, read from /proc/cpuinfo once per process (both helpers below need them). */
function cpuFlags(): Set<string> {
  if (allFlags) return allFlags;
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8').split('\n').find((l) => l.startsWith('flags')) ?? '';
    allFlags = new Set(line.split(':')[1]?.trim().split(/\s+/) ?? []);
  } catch {
    allFlags = new Set();
  }
  return allFlags;
}
let fingerprint: string | undefined;

/**
 * Everything that decides which kernels (and so which packed weight layouts) onnxruntime
 * picks on this CPU: the model name and every SIMD-related flag.
 */
export function cpuFingerprint(): string {
  if (fingerprint !== undefined) return fingerprint;
  const flags = [...cpuFlags()].filter((f) => /avx|sse|fma|vnni|amx|f16c|bmi|popcnt/.test(f)).sort();
  fingerprint = `${cpus()[0]?.model ?? 'unknown'}|${process.arch}|${flags.join(',')}`;
  return fingerprint;
}

export function cpuInfo(): CpuInfo {
  if (cached) return cached;
  const all = cpuFlags();
  const flags = FLAGS.filter((f) => all.has(f));
  const list = cpus();
  cached = { model: list[0]?.model ?? 'unknown', cores: list.length, flags };
  return cached;
}

/** CPUs a cgroup quota allows ("200000 100000" → 2), or null when unlimited or unreadable. */
export function cpusFromQuota(quota: number, period: number): number | null {
  if (!(quota > 0) || !(period > 0)) return null;
  return Math.max(1, Math.ceil(quota / period));
}

function readQuota(): number | null {
  try {
    // cgroup v2: "max 100000" or "200000 100000"
    const [q, p] = readFileSync('/sys/fs/cgroup/cpu.max', 'utf8').trim().split(/\s+/);
    return q === 'max' ? null : cpusFromQuota(Number(q), Number(p));
  } catch {
    // fall through to v1
  }
  try {
    const q = Number(readFileSync('/sys/fs/cgroup/cpu/cpu.cfs_quota_us', 'utf8'));
    const p = Number(readFileSync('/sys/fs/cgroup/cpu/cpu.cfs_period_us', 'utf8'));
    return cpusFromQuota(q, p);
  } catch {
    return null;
  }
}

/**
 * Cores this process may really use: the affinity mask (what availableParallelism reports)
 * capped by a CPU quota, which a container run with --cpus 1 has but affinity does not show.
 * More onnxruntime threads than that only contend.
 */
export function usableCores(): number {
  const quota = readQuota();
  return quota === null ? availableParallelism() : Math.min(availableParallelism(), quota);
}
