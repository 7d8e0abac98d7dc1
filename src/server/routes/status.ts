// Status routes: /health (open), /ready, /info, /metrics.

import { cpuInfo } from '../../cpu.js';
import { ortosVersion } from '../../version.js';
import type { ServeConfig } from '../../settings/serve.js';
import { sendJson } from '../http-io.js';
import type { Metrics } from '../metrics.js';
import type { EmbeddingService } from '../../service/embedding-service.js';
import type { Route } from './route.js';

export function statusRoutes(cfg: ServeConfig, service: EmbeddingService, metrics: Metrics, info: () => Record<string, unknown>): Record<string, Route> {
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
        if (s.status === 'ready') sendJson(res, 200, { status: 'ready' });
        else sendJson(res, 503, { status: s.status, ...(s.status === 'failed' ? { reason: s.reason } : {}) }, { 'retry-after': '1' });
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
