// Load over HTTP for benchmarks: texts sent in calls of `per`, `concurrency` at a time, with
// throughput and latency percentiles; and a process's peak RSS.

import { readFileSync } from 'node:fs';

export const median = (xs: number[]): number => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];
export const pct = (xs: number[], q: number): number => xs.slice().sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))];

export interface LoadFigures {
  textsPerSec: number;
  p50: number;
  p95: number;
  p99: number;
}

export async function ortosLoad(url: string, texts: string[], per: number, concurrency: number): Promise<LoadFigures> {
  const calls: string[][] = [];
  for (let i = 0; i < texts.length; i += per) calls.push(texts.slice(i, i + per));
  const lat: number[] = [];
  let next = 0;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < calls.length) {
      const input = calls[next++];
      const t = performance.now();
      const r = await fetch(`${url}/v1/embeddings`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ input }) });
      await r.arrayBuffer();
      if (r.status !== 200) throw new Error(`status ${r.status}`);
      lat.push(performance.now() - t);
    }
  }));
  const s = (performance.now() - t0) / 1000;
  return { textsPerSec: texts.length / s, p50: pct(lat, 0.5), p95: pct(lat, 0.95), p99: pct(lat, 0.99) };
}

/** Peak resident memory of a live process, MB. */
export function hwm(pid: number): number {
  return Number(/^VmHWM:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
}
