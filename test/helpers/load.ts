// Load generation with autocannon (bounded in time, loopback only), and process memory.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

export interface LoadResult {
  requests: number;
  statuses: Record<string, number>;
  p50: number;
  p99: number;
  errors: number;
  durationS: number;
}

interface AutocannonResult {
  requests: { total: number };
  statusCodeStats?: Record<string, { count: number }>;
  latency: { p50: number; p99: number };
  errors: number;
  duration: number;
}
type Autocannon = (opts: Record<string, unknown>) => Promise<AutocannonResult>;

export async function flood(url: string, opts: { connections: number; seconds: number; bodies: string[]; path?: string; headers?: Record<string, string> }): Promise<LoadResult> {
  const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;
  const r = await autocannon({
    url,
    connections: opts.connections,
    duration: opts.seconds,
    timeout: 30,
    requests: opts.bodies.map((body) => ({ method: 'POST', path: opts.path ?? '/v1/embeddings', headers: { 'content-type': 'application/json', ...opts.headers }, body })),
  });
  const statuses: Record<string, number> = {};
  for (const [k, v] of Object.entries(r.statusCodeStats ?? {})) statuses[k] = v.count;
  return { requests: r.requests.total, statuses, p50: r.latency.p50, p99: r.latency.p99, errors: r.errors, durationS: r.duration };
}

export function procMemMB(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const get = (k: string): number => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? 0) / 1024;
  return { rss: get('VmRSS'), hwm: get('VmHWM') };
}

export async function medianLatency(send: () => Promise<Response>, n: number): Promise<number> {
  const xs: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    const r = await send();
    await r.arrayBuffer();
    xs.push(performance.now() - t);
  }
  xs.sort((a, b) => a - b);
  return xs[Math.floor(n / 2)];
}
