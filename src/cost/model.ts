// A monthly cost model for one scale-to-zero Machine: running time from a usage profile,
// plus storage that is billed all month (the stopped Machine's rootfs, and a volume if the
// model lives on one).

import { runningPerSecond, SECONDS_PER_MONTH, STOPPED_ROOTFS_GB_MONTH, VOLUME_GB_MONTH } from './prices.js';

export interface UsageProfile {
  /** Separate bursts of traffic per day; each wakes the Machine once. */
  wakesPerDay: number;
  /** Requests per day (they add their own busy time). */
  requestsPerDay: number;
  /** Seconds of model time per request. */
  secondsPerRequest: number;
  /** Seconds a Machine stays up after the last request of a burst before it stops or suspends. */
  idleSeconds: number;
  /** Seconds from wake to serving (counted as running). */
  wakeSeconds: number;
  /** Overrides the running time computed from the above (minutes per month). */
  runningMinutesPerMonth?: number;
  machine: string;
  store: 'image' | 'volume';
  /** Uncompressed image size in GB (the rootfs billed while stopped). */
  imageGB: number;
  volumeGB: number;
  /** Override for the volume price (the original note assumed $0.10). */
  volumePricePerGB?: number;
  /** Whether the stopped Machine's rootfs is counted (the original note left it out). */
  countRootfs?: boolean;
  /** A reranker is served too (its files are in imageGB or on the volume). */
  rerank?: boolean;
}

export interface CostBreakdown {
  runningMinutes: number;
  running: number;
  rootfs: number;
  volume: number;
  total: number;
}

export function monthlyCost(p: UsageProfile): CostBreakdown {
  const days = SECONDS_PER_MONTH / 86400;
  const runningSeconds = p.runningMinutesPerMonth !== undefined
    ? p.runningMinutesPerMonth * 60
    : Math.min(SECONDS_PER_MONTH, days * (p.wakesPerDay * (p.wakeSeconds + p.idleSeconds) + p.requestsPerDay * p.secondsPerRequest));
  const running = runningSeconds * runningPerSecond(p.machine);
  const stoppedShare = 1 - runningSeconds / SECONDS_PER_MONTH;
  const rootfs = p.countRootfs === false ? 0 : p.imageGB * STOPPED_ROOTFS_GB_MONTH * stoppedShare;
  const volume = p.store === 'volume' ? p.volumeGB * (p.volumePricePerGB ?? VOLUME_GB_MONTH) : 0;
  return { runningMinutes: runningSeconds / 60, running, rootfs, volume, total: running + rootfs + volume };
}
