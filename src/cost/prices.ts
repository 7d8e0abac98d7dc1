// Fly.io prices used by `ortos-embed cost`, in one dated table. Source: Fly.io's pricing
// page (fly.io/docs/about/pricing), as published in 2026: Machines are billed per second
// while running; a stopped or suspended Machine is billed only for its root file system;
// volumes are billed whether attached or not. There is no free tier. Check the page before
// relying on a figure: prices change.

export const PRICES_AS_OF = '2026-11';
export const PRICES_SOURCE = 'https://fly.io/docs/about/pricing/';

/** shared-cpu-1x, US$ per 30 days of running, by memory. */
export const SHARED_CPU_1X_MONTHLY: Record<string, number> = {
  '256mb': 1.94,
  '512mb': 3.19,
  '1gb': 5.7,
  '2gb': 10.7,
};

/** US$ per GB per 30 days: volumes, and the rootfs of stopped or suspended Machines. */
export const VOLUME_GB_MONTH = 0.15;
export const STOPPED_ROOTFS_GB_MONTH = 0.15;

export const SECONDS_PER_MONTH = 30 * 24 * 3600;

export function runningPerSecond(size: string): number {
  const monthly = SHARED_CPU_1X_MONTHLY[size];
  if (monthly === undefined) throw new Error(`unknown machine size "${size}" (one of ${Object.keys(SHARED_CPU_1X_MONTHLY).join(', ')})`);
  return monthly / SECONDS_PER_MONTH;
}
