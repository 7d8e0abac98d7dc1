// One request, start to end: an id, CORS, the route, the key, the handler, errors in
// OpenAI's shape (details of unexpected ones only in the log), one log line and metrics.

import { NO_RERANKER, RERANK_PATHS } from './routes/rerank.js';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApiError, fromServiceError } from './api-error.js';
import type { ApiKeyCheck } from './auth.js';
import { applyCors } from './cors.js';
import { sendError } from './http-io.js';
import type { InFlight } from './in-flight.js';
import type { Logger } from './logger.js';
import type { Metrics } from './metrics.js';
import type { Route } from './routes/route.js';

const REQUEST_ID = /^[\w.-]{1,64}$/;

export interface HandlerDeps {
  routes: ReadonlyMap<string, Route>;
  auth: ApiKeyCheck | null;
  corsOrigins: ReadonlySet<string>;
  log: Logger;
  metrics: Metrics;
  inFlight: InFlight;
  /** Called when a request arrives (the idle timer starts over). */
  onActivity: () => void;
  /** Called after each answer with its route and status (the wake ends at the first embedding). */
  onAnswered: (path: string, status: number) => void;
}

export function createHandler(d: HandlerDeps): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  return async (req, res) => {
    const t0 = performance.now();
    const given = req.headers['x-request-id'];
    const requestId = typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    res.setHeader('x-request-id', requestId);
    const path = (req.url ?? '/').split('?')[0];
    const route = d.routes.get(path);
    const note: Record<string, unknown> = {};
    const controller = new AbortController();
    // The client went away before we answered: its queued work is dropped before it runs.
    res.on('close', () => {
      if (!res.writableFinished) controller.abort();
    });
    d.inFlight.enter();
    d.onActivity();
    d.log.debug('request received', { requestId, method: req.method, path, inFlight: d.inFlight.size });
    try {
      if (applyCors(req, res, d.corsOrigins)) return;
      if (!route) throw new ApiError(404, `no route ${req.method} ${path}${RERANK_PATHS.has(path) ? `: ${NO_RERANKER}` : ''}`, 'not_found_error', 'not_found');
      if (req.method !== route.method && !(route.method === 'GET' && req.method === 'HEAD')) {
        res.setHeader('allow', route.method);
        throw new ApiError(405, `${path} takes ${route.method}, not ${req.method}`, 'invalid_request_error', 'method_not_allowed');
      }
      if (d.auth && !route.open) {
        try {
          d.auth.check(req.headers);
        } catch (e) {
          if (e instanceof ApiError && route.openWith) throw new ApiError(e.status, `${e.message} (or start the service with ${route.openWith} to serve ${path} without a key)`, e.type, e.code);
          throw e;
        }
      }
      if (d.inFlight.draining && path !== '/health') {
        res.setHeader('connection', 'close');
        throw new ApiError(503, 'the service is shutting down', 'service_unavailable', 'shutting_down', null, 1);
      }
      await route.handler({ req, res, signal: controller.signal, note });
    } catch (thrown) {
      const e = fromServiceError(thrown, route?.fields);
      let err: ApiError;
      if (e instanceof ApiError) err = e;
      else {
        d.log.error('request failed', { requestId, path, err: (e as Error).message, stack: (e as Error).stack });
        err = new ApiError(500, `internal error (request id ${requestId})`, 'server_error', 'internal_error');
      }
      if (err.status === 413 || err.status === 415) res.setHeader('connection', 'close');
      if (err.status !== 499) sendError(res, err, requestId);
    } finally {
      d.inFlight.leave();
      const status = controller.signal.aborted ? 499 : res.statusCode;
      const ms = performance.now() - t0;
      d.metrics.request(route ? path : 'unknown', status, ms / 1000);
      if (path !== '/health' || status !== 200) {
        d.log.info('request', { requestId, method: req.method, path, status, ms: Math.round(ms * 10) / 10, ...note });
      }
      d.onAnswered(path, status);
    }
  };
}
