// The service put together: bind the port first, load the model in the background, answer
// requests (handler.ts), record the wake's phases, exit when idle if asked, and drain on
// shutdown. Each of those is its own module; this one only wires them.

import type { Server } from 'node:http';
import type { EmbeddingCache } from '../cache/embedding-cache.js';
import type { EarlyModel, Pipeline } from '../pipeline/pipeline.js';
import { ApiKeyCheck } from './auth.js';
import type { ServeConfig } from '../settings/serve.js';
import { createHandler } from './handler.js';
import { startIdleTimer, type IdleTimer } from './idle-exit.js';
import { InFlight } from './in-flight.js';
import { listen } from './listener.js';
import type { Logger } from './logger.js';
import { Metrics } from './metrics.js';
import { buildRoutes } from './routes.js';
import { EmbeddingService } from '../service/embedding-service.js';
import { RerankService } from '../service/rerank-service.js';

export interface App {
  server: Server;
  service: EmbeddingService;
  /** The reranker, when one is served. */
  reranker?: RerankService;
  metrics: Metrics;
  url: string;
  /** Stops accepting, waits for in-flight requests (up to the grace period), then resolves. */
  shutdown(reason: string): Promise<void>;
}

export interface AppOptions {
  cfg: ServeConfig;
  batchTokens: number;
  log: Logger;
  /** Loads the model; `early` may be told its text side and graph before it resolves. */
  load: (early: (known: EarlyModel) => void) => Promise<Pipeline>;
  /** The embedding cache, if any. */
  cache?: EmbeddingCache;
  /** Facts for /info once the model is known. */
  info: () => Record<string, unknown>;
  /** Called when the idle timer ends the process. */
  exit: (code: number) => void;
  /** A reranker beside the embedder: loaded on its first request, or after the embedder if `preload`. */
  reranker?: { name: string; load: () => Promise<Pipeline>; preload: boolean };
}

/** The wake ends with the first answer that needed the model. */
const EMBEDDING_ROUTES = new Set(['/v1/embeddings', '/embed', '/embed_all', '/similarity', '/tokenize', '/decode']);
const RERANK_ROUTES = new Set(['/rerank', '/v1/rerank', '/v2/rerank']);

export async function startApp(opts: AppOptions): Promise<App> {
  const { cfg, log } = opts;
  let service: EmbeddingService | undefined;
  let reranker: RerankService | undefined;
  const metrics = new Metrics({
    queued: () => service?.queued ?? 0,
    waitingForModel: () => service?.waiting ?? 0,
    cache: () => opts.cache?.stats() ?? null,
    models: () => [
      { model: 'embed', status: service?.state.status ?? 'loading' },
      ...(reranker !== undefined ? [{ model: 'rerank', status: reranker.state.status }] : []),
    ],
  });
  service = new EmbeddingService({ loadTimeoutMs: cfg.loadTimeoutMs, batchTokens: opts.batchTokens, maxQueuedInputs: cfg.maxQueuedInputs, maxQueueWaitMs: cfg.maxQueueWaitMs, cache: opts.cache }, metrics);
  const svc = service;
  if (opts.reranker !== undefined) {
    const r = opts.reranker;
    reranker = new RerankService(r.name, async () => {
      const t = performance.now();
      log.info('loading reranker', { model: r.name });
      const model = await r.load();
      log.info('reranker ready', { model: model.name, loadMs: Math.round(performance.now() - t) });
      return model;
    }, svc, cfg.loadTimeoutMs, metrics);
  }
  const inFlight = new InFlight();
  let idle: IdleTimer | null = null;
  let firstAnswer = false;

  const handle = createHandler({
    routes: buildRoutes(cfg, svc, metrics, opts.info, reranker),
    auth: cfg.apiKey ? new ApiKeyCheck(cfg.apiKey) : null,
    corsOrigins: new Set(cfg.corsOrigins),
    log,
    metrics,
    inFlight,
    onActivity: () => idle?.touch(),
    onAnswered: (path, status) => {
      if (firstAnswer || status !== 200 || !(EMBEDDING_ROUTES.has(path) || RERANK_ROUTES.has(path))) return;
      firstAnswer = true;
      const at = performance.now() / 1000;
      metrics.wake('first_response', at);
      log.info('first response', { sinceStartMs: Math.round(at * 1000) });
      // Off the wake path: load the metrics library now that the first answer is out.
      setImmediate(() => void metrics.load());
    },
  });
  const { server, address } = await listen(cfg, (req, res) => void handle(req, res));
  const listeningAt = performance.now() / 1000;
  metrics.wake('listening', listeningAt);
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  log.info('listening', { url: `http://${host}:${address.port}`, sinceStartMs: Math.round(listeningAt * 1000), auth: cfg.apiKey !== undefined });

  // The port is bound: load the model now, after the current tick so 'listening' is out.
  setImmediate(() => {
    const t = performance.now();
    log.info('loading model');
    svc.start(opts.load, (state) => {
      if (state.status === 'ready') {
        const at = performance.now() / 1000;
        metrics.wake('model_ready', at);
        const info = opts.info();
        log.info('model ready', { loadMs: Math.round(performance.now() - t), sinceStartMs: Math.round(at * 1000), ...info });
        if (info.random_weights === true) log.warn('this model has random weights (a generated test fixture): its vectors mean nothing; for real vectors serve the hub model (the default) or its files with --model-dir', { model_id: info.model_id });
        // After the embedder, never before it: the wake does not wait for the reranker.
        if (opts.reranker?.preload === true) reranker?.start((s) => {
          if (s.status === 'failed') log.error('reranker failed to load; rerank requests get 503', { reason: s.reason });
        });
      } else if (state.status === 'failed') {
        log.error('model failed to load; /health reports it and requests get 503', { reason: state.reason });
      }
    });
  });

  let shuttingDown: Promise<void> | null = null;
  const app: App = {
    server,
    service: svc,
    reranker,
    metrics,
    url: `http://${host}:${address.port}`,
    shutdown(reason: string): Promise<void> {
      shuttingDown ??= (async () => {
        idle?.stop();
        log.info('shutting down', { reason, inFlight: inFlight.size });
        const closed = new Promise<void>((r) => server.close(() => r()));
        server.closeIdleConnections();
        if (!(await inFlight.drain(cfg.graceMs))) log.warn('grace period over; abandoning requests', { inFlight: inFlight.size, graceMs: cfg.graceMs });
        server.closeAllConnections();
        await closed;
        await svc.close();
        await reranker?.close();
        opts.cache?.close();
        log.info('stopped', { reason });
      })();
      return shuttingDown;
    },
  };

  if (cfg.idleExitMs > 0) {
    idle = startIdleTimer(cfg.idleExitMs, () => inFlight.size > 0 || svc.busy || svc.state.status === 'loading' || reranker?.state.status === 'loading', () => {
      log.info('idle: exiting', { idleMs: cfg.idleExitMs });
      void app.shutdown('idle').then(() => opts.exit(0));
    });
  }
  return app;
}
