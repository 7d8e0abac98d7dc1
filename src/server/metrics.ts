// Prometheus metrics through prom-client, loaded after the first response (or at the first
// scrape): importing it costs ~80 ms on one core here, which must not sit between a wake
// and the first answer. Observations made before then are queued and replayed.

import type { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { CacheStats } from '../cache/embedding-cache.js';

interface Impl {
  registry: Registry;
  requests: Counter<'route' | 'status'>;
  latency: Histogram<'route'>;
  tokens: Counter;
  inputs: Counter;
  truncated: Counter;
  batchRows: Histogram;
  batchTokens: Histogram;
  batchSeconds: Histogram;
  wake: Gauge<'phase'>;
  rerankPairs: Counter;
  rerankTokens: Counter;
}

export class Metrics {
  private impl: Impl | null = null;
  private loading: Promise<Impl> | null = null;
  private pending: Array<(m: Impl) => void> = [];

  constructor(private readonly now: { queued: () => number; waitingForModel: () => number; cache?: () => CacheStats | null; models?: () => Array<{ model: string; status: string }> }) {}

  private record(op: (m: Impl) => void): void {
    if (this.impl) op(this.impl);
    else this.pending.push(op);
  }

  request(route: string, status: number, seconds: number): void {
    this.record((m) => {
      m.requests.inc({ route, status: String(status) });
      m.latency.observe({ route }, seconds);
    });
  }

  embedded(inputs: number, tokens: number, truncated: number): void {
    this.record((m) => {
      m.inputs.inc(inputs);
      m.tokens.inc(tokens);
      if (truncated > 0) m.truncated.inc(truncated);
    });
  }

  reranked(pairs: number, tokens: number, truncated: number): void {
    this.record((m) => {
      m.rerankPairs.inc(pairs);
      m.rerankTokens.inc(tokens);
      if (truncated > 0) m.truncated.inc(truncated);
    });
  }

  batch(rows: number, paddedTokens: number, seconds: number): void {
    this.record((m) => {
      m.batchRows.observe(rows);
      m.batchTokens.observe(paddedTokens);
      m.batchSeconds.observe(seconds);
    });
  }

  wake(phase: 'listening' | 'model_ready' | 'first_response', secondsSinceStart: number): void {
    this.record((m) => m.wake.set({ phase }, secondsSinceStart));
  }

  load(): Promise<Impl> {
    this.loading ??= import('prom-client').then((mod) => {
      const p = mod.default;
      const registry = new p.Registry();
      p.collectDefaultMetrics({ register: registry });
      const now = this.now;
      const impl: Impl = {
        registry,
        requests: new p.Counter({ name: 'ortos_http_requests_total', help: 'HTTP requests by route and status', labelNames: ['route', 'status'], registers: [registry] }),
        latency: new p.Histogram({ name: 'ortos_http_request_duration_seconds', help: 'HTTP request latency', labelNames: ['route'], buckets: [0.005, 0.01, 0.015, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], registers: [registry] }),
        tokens: new p.Counter({ name: 'ortos_embedded_tokens_total', help: 'Tokens embedded, specials included', registers: [registry] }),
        inputs: new p.Counter({ name: 'ortos_embedded_inputs_total', help: 'Inputs embedded', registers: [registry] }),
        truncated: new p.Counter({ name: 'ortos_truncated_inputs_total', help: 'Inputs cut to the model limit', registers: [registry] }),
        batchRows: new p.Histogram({ name: 'ortos_batch_rows', help: 'Inputs per model run', buckets: [1, 2, 4, 8, 16, 32, 64, 128], registers: [registry] }),
        batchTokens: new p.Histogram({ name: 'ortos_batch_padded_tokens', help: 'Padded tokens per model run', buckets: [16, 32, 64, 128, 256, 512, 1024, 2048], registers: [registry] }),
        batchSeconds: new p.Histogram({ name: 'ortos_batch_duration_seconds', help: 'Model run time', buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5], registers: [registry] }),
        wake: new p.Gauge({ name: 'ortos_wake_seconds', help: 'Seconds from process start to each wake phase', labelNames: ['phase'], registers: [registry] }),
        rerankPairs: new p.Counter({ name: 'ortos_reranked_pairs_total', help: '(query, passage) pairs scored by the reranker', registers: [registry] }),
        rerankTokens: new p.Counter({ name: 'ortos_reranked_tokens_total', help: 'Tokens of the pairs scored by the reranker, specials included', registers: [registry] }),
      };
      if (now.models !== undefined) {
        const models = now.models;
        const STATES = ['idle', 'loading', 'ready', 'failed'];
        // One series per model and state, 1 for the state it is in: alerts can watch "failed".
        new p.Gauge({ name: 'ortos_model_state', help: 'Each served model\'s state (idle: not asked for yet), 1 for the current one', labelNames: ['model', 'state'], registers: [registry], collect() {
          for (const m of models()) for (const st of STATES) this.set({ model: m.model, state: st }, m.status === st ? 1 : 0);
        } });
      }
      new p.Gauge({ name: 'ortos_queue_inputs', help: 'Inputs waiting in the batch queue', registers: [registry], collect() { this.set(now.queued()); } });
      new p.Gauge({ name: 'ortos_requests_waiting_for_model', help: 'Requests waiting for the model to load', registers: [registry], collect() { this.set(now.waitingForModel()); } });
      if (now.cache?.() != null) {
        const cache = now.cache as () => CacheStats;
        // Read from the cache's own counters when scraped (they live in the cache, not here).
        new p.Counter({ name: 'ortos_cache_hits_total', help: 'Inputs answered from the embedding cache', registers: [registry], collect() { this.reset(); this.inc(cache().hits); } });
        new p.Counter({ name: 'ortos_cache_misses_total', help: 'Inputs the embedding cache did not have', registers: [registry], collect() { this.reset(); this.inc(cache().misses); } });
        const tiers = (pick: (t: { entries: number; bytes: number; evictions: number }) => number) => function (this: { set(labels: { tier: string }, v: number): void }): void {
          const s = cache();
          if (s.memory) this.set({ tier: 'memory' }, pick(s.memory));
          if (s.disk) this.set({ tier: 'disk' }, pick(s.disk));
        };
        new p.Gauge({ name: 'ortos_cache_entries', help: 'Vectors in the embedding cache, by tier', labelNames: ['tier'], registers: [registry], collect: tiers((t) => t.entries) });
        new p.Gauge({ name: 'ortos_cache_bytes', help: 'Bytes the embedding cache holds, by tier', labelNames: ['tier'], registers: [registry], collect: tiers((t) => t.bytes) });
        new p.Gauge({ name: 'ortos_cache_evictions', help: 'Vectors evicted from the embedding cache by its size bound, by tier', labelNames: ['tier'], registers: [registry], collect: tiers((t) => t.evictions) });
      }
      for (const op of this.pending.splice(0)) op(impl);
      this.impl = impl;
      return impl;
    });
    return this.loading;
  }

  async render(): Promise<{ contentType: string; body: string }> {
    const m = await this.load();
    return { contentType: m.registry.contentType, body: await m.registry.metrics() };
  }
}
