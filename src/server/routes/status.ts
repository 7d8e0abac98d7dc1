// Status routes: /health (open), /ready, /info, /metrics.

import { cpuInfo } from '../../cpu.js';
import { ortosVersion } from '../../version.js';
import type { ServeConfig } from '../../settings/serve.js';
import { sendJson } from '../http-io.js';
import type { Metrics } from '../metrics.js';
import type { EmbeddingService } from '../../service/embedding-service.js';
import type { RerankService } from '../../service/rerank-service.js';
import type { Route } from './route.js';

export function statusRoutes(cfg: ServeConfig, service: EmbeddingService, metrics: Metrics, info: () => Record<string, unknown>, reranker?: RerankService): Record<string, Route> {
  // Per model; the reranker is "idle" until its first request (or --rerank-preload) loads it.
  const models = (): Record<string, string> => ({ embed: service.state.status, ...(reranker !== undefined ? { rerank: reranker.state.status } : {}) });
  return {
    '/health': {
      method: 'GET',
      open: true,
      handler: async ({ res }) => {
        const s = service.state;
        sendJson(res, s.status === 'failed' ? 503 : 200, s.status === 'failed' ? { status: 'failed', reason: s.reason } : { status: s.status });
      },
    },
    '/ready': {
      method: 'GET',
      handler: async ({ res }) => {
        const s = service.state;
        // Ready when the embedder is: a reranker loads on demand and does not hold traffic back.
        if (s.status === 'ready') sendJson(res, 200, { status: 'ready', models: models() });
        else sendJson(res, 503, { status: s.status, ...(s.status === 'failed' ? { reason: s.reason } : {}), models: models() }, { 'retry-after': '1' });
      },
    },
    '/info': {
      method: 'GET',
      handler: async ({ res }) => {
        sendJson(res, 200, {
          ...info(),
          version: ortosVersion(),
          cpu: cpuInfo(),
          token_ids: cfg.tokenIds,
          limits: {
            max_body_bytes: cfg.maxBodyBytes,
            max_inputs: cfg.maxInputs,
            max_chars: cfg.maxChars,
            max_token_vectors: cfg.maxTokenVectors,
            max_queued_inputs: cfg.maxQueuedInputs,
            max_queue_wait_ms: cfg.maxQueueWaitMs,
          },
          cache: service.cache?.stats() ?? null,
          reranker: reranker === undefined ? null : rerankerInfo(reranker),
        });
      },
    },
    '/metrics': {
      method: 'GET',
      open: cfg.metricsOpen,
      openWith: '--metrics-open',
      handler: async ({ res }) => {
        const { contentType, body } = await metrics.render();
        res.writeHead(200, { 'content-type': contentType, 'content-length': Buffer.byteLength(body) });
        res.end(body);
      },
    },
  };
}

function rerankerInfo(r: RerankService): Record<string, unknown> {
  const s = r.state;
  if (s.status !== 'ready') return { model_id: r.name, status: s.status, ...(s.status === 'failed' ? { reason: s.reason } : {}) };
  const m = s.model;
  return {
    model_id: m.manifest.origin.repo ?? m.name,
    revision: m.manifest.origin.revision ?? null,
    status: 'ready',
    dtype: m.manifest.dtype,
    max_input_tokens: m.maxTokens,
    activation: m.rules.activation ?? 'sigmoid',
    rules_from: m.rules.from,
    int8: m.int8 ? { weights: m.int8.weights, exact: m.int8.exact } : null,
  };
}
