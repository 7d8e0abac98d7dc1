// The HTTP server and its lifecycle: bind first, load the model in the background, route,
// authenticate, log one line per request; drain on SIGTERM/SIGINT; optionally exit when idle.

import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApiError } from '../core/errors.js';
import type { Pipeline } from '../pipeline/pipeline.js';
import { ApiKeyCheck } from './auth.js';
import type { ServeConfig } from './config.js';
import { sendError } from './http-io.js';
import type { Logger } from './logger.js';
import { Metrics } from './metrics.js';
import { buildRoutes } from './routes.js';
import { EmbeddingService } from './service.js';

export interface App {
  server: Server;
  service: EmbeddingService;
  metrics: Metrics;
  url: string;
  /** Stops accepting, waits for in-flight requests (up to the grace period), then resolves. */
  shutdown(reason: string): Promise<void>;
}

export interface AppOptions {
  cfg: ServeConfig;
  batchTokens: number;
  log: Logger;
  load: () => Promise<Pipeline>;
  /** Facts for /info once the model is known. */
  info: () => Record<string, unknown>;
  /** Called when the idle timer or a signal ends the process. */
  exit: (code: number) => void;
}

const REQUEST_ID = /^[\w.-]{1,64}$/;
/** The wake ends with the first answer that needed the model. */
const EMBEDDING_ROUTES = new Set(['/v1/embeddings', '/embed', '/tokenize']);

export async function startApp(opts: AppOptions): Promise<App> {
  const { cfg, log } = opts;
  let service: EmbeddingService;
  const metrics = new Metrics(() => service.batcher.queued);
  service = new EmbeddingService(cfg.loadTimeoutMs, opts.batchTokens, cfg.maxQueuedInputs, cfg.maxQueueWaitMs, metrics);
  const routes = buildRoutes(cfg, service, metrics, opts.info);
  const auth = cfg.apiKey ? new ApiKeyCheck(cfg.apiKey) : null;
  const cors = new Set(cfg.corsOrigins);
  let inFlight = 0;
  let draining = false;
  let firstResponse = false;
  let idleTicks = 0;
  let drained: (() => void) | null = null;

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const t0 = performance.now();
    const given = req.headers['x-request-id'];
    const requestId = typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    res.setHeader('x-request-id', requestId);
    const path = (req.url ?? '/').split('?')[0];
    const route = routes.get(path);
    const routeLabel = route ? path : 'unknown';
    const note: Record<string, unknown> = {};
    const controller = new AbortController();
    // The client went away before we answered: its queued work is dropped before it runs.
    res.on('close', () => {
      if (!res.writableFinished) controller.abort();
    });
    inFlight++;
    idleTicks = 0;
    log.debug('request received', { requestId, method: req.method, path, inFlight });
    try {
      const origin = req.headers.origin;
      if (origin !== undefined && (cors.has('*') || cors.has(origin))) {
        res.setHeader('access-control-allow-origin', cors.has('*') ? '*' : origin);
        res.setHeader('vary', 'origin');
        if (req.method === 'OPTIONS') {
          res.writeHead(204, {
            'access-control-allow-methods': 'GET, POST, OPTIONS',
            'access-control-allow-headers': 'authorization, content-type, x-request-id',
            'access-control-max-age': '600',
          });
          res.end();
          return;
        }
      }
      if (!route) throw new ApiError(404, `no route ${req.method} ${path}`, 'not_found_error', 'not_found');
      if (req.method !== route.method) {
        res.setHeader('allow', route.method);
        throw new ApiError(405, `${path} takes ${route.method}, not ${req.method}`, 'invalid_request_error', 'method_not_allowed');
      }
      if (auth && !route.open) auth.check(req.headers);
      if (draining && path !== '/health') {
        res.setHeader('connection', 'close');
        throw new ApiError(503, 'the service is shutting down', 'service_unavailable', 'shutting_down', null, 1);
      }
      await route.handler({ req, res, signal: controller.signal, note });
    } catch (e) {
      let err: ApiError;
      if (e instanceof ApiError) err = e;
      else {
        log.error('request failed', { requestId, path, err: (e as Error).message, stack: (e as Error).stack });
        err = new ApiError(500, `internal error (request id ${requestId})`, 'server_error', 'internal_error');
      }
      if (err.status === 413 || err.status === 415) res.setHeader('connection', 'close');
      if (err.status !== 499) sendError(res, err, requestId);
    } finally {
      inFlight--;
      const status = controller.signal.aborted ? 499 : res.statusCode;
      const ms = performance.now() - t0;
      metrics.request(routeLabel, status, ms / 1000);
      if (path !== '/health' || status !== 200) {
        log.info('request', { requestId, method: req.method, path, status, ms: Math.round(ms * 10) / 10, ...note });
      }
      if (!firstResponse && status === 200 && EMBEDDING_ROUTES.has(path)) {
        firstResponse = true;
        const at = performance.now() / 1000;
        metrics.wake('first_response', at);
        log.info('first response', { sinceStartMs: Math.round(at * 1000) });
        // Off the wake path: load the metrics library now that the first answer is out.
        setImmediate(() => void metrics.load());
      }
      if (inFlight === 0 && drained) drained();
    }
  };

  const server = createServer({
    headersTimeout: cfg.headersTimeoutMs,
    requestTimeout: cfg.requestTimeoutMs,
    // Node checks those timeouts only this often (30 s by default): slow-header clients
    // would otherwise hold sockets far longer than the limits say.
    connectionsCheckingInterval: Math.min(1000, cfg.headersTimeoutMs),
    // Longer than the proxies in front (Fly's keeps connections ~60 s), so they close first.
    keepAliveTimeout: 75_000,
  }, (req, res) => {
    void handle(req, res);
  });
  server.on('clientError', (err, socket) => {
    if (socket.writable) {
      const body = JSON.stringify({ error: { message: `bad request: ${err.message}`, type: 'invalid_request_error', code: 'bad_http', param: null } });
      socket.end(`HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
    } else socket.destroy();
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(cfg.port, cfg.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const listeningAt = performance.now() / 1000;
  metrics.wake('listening', listeningAt);
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  log.info('listening', { url: `http://${host}:${address.port}`, sinceStartMs: Math.round(listeningAt * 1000), auth: auth !== null });

  // The port is bound: load the model now, after the current tick so 'listening' is out.
  setImmediate(() => {
    const t = performance.now();
    log.info('loading model');
    service.host.start(opts.load, (state) => {
      if (state.status === 'ready') {
        const at = performance.now() / 1000;
        metrics.wake('model_ready', at);
        const info = opts.info();
        log.info('model ready', { loadMs: Math.round(performance.now() - t), sinceStartMs: Math.round(at * 1000), ...info });
        if (info.random_weights === true) log.warn('this model has random weights (a generated test fixture): its vectors mean nothing; for real vectors serve the hub model (the default) or its files with --model-dir', { model_id: info.model_id });
      } else if (state.status === 'failed') {
        log.error('model failed to load; /health reports it and requests get 503', { reason: state.reason });
      }
    });
  });

  let idleTimer: NodeJS.Timeout | null = null;
  if (cfg.idleExitMs > 0) {
    // Count ticks rather than compare clocks: after a suspend/resume (or SIGSTOP/SIGCONT)
    // timers fire once, late, so a jump in any clock can never look like a long idle time.
    const tickMs = Math.min(1000, Math.max(10, Math.floor(cfg.idleExitMs / 10)));
    const needed = Math.ceil(cfg.idleExitMs / tickMs);
    idleTimer = setInterval(() => {
      if (inFlight > 0 || service.batcher.busy || service.host.state.status === 'loading') {
        idleTicks = 0;
        return;
      }
      if (++idleTicks >= needed) {
        log.info('idle: exiting', { idleMs: cfg.idleExitMs });
        void app.shutdown('idle').then(() => opts.exit(0));
      }
    }, tickMs);
    idleTimer.unref();
  }

  let shuttingDown: Promise<void> | null = null;
  const app: App = {
    server,
    service,
    metrics,
    url: `http://${host}:${address.port}`,
    shutdown(reason: string): Promise<void> {
      shuttingDown ??= (async () => {
        draining = true;
        if (idleTimer) clearInterval(idleTimer);
        log.info('shutting down', { reason, inFlight });
        const closed = new Promise<void>((r) => server.close(() => r()));
        server.closeIdleConnections();
        if (inFlight > 0) {
          const done = new Promise<void>((r) => {
            drained = r;
          });
          const timedOut = await Promise.race([done.then(() => false), new Promise<boolean>((r) => setTimeout(() => r(true), cfg.graceMs).unref())]);
          if (timedOut) log.warn('grace period over; abandoning requests', { inFlight, graceMs: cfg.graceMs });
        }
        server.closeAllConnections();
        await closed;
        if (service.host.state.status === 'ready') await service.host.state.model.close();
        log.info('stopped', { reason });
      })();
      return shuttingDown;
    },
  };
  return app;
}
