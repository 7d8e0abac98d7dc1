// The service in this process on loopback, serving a prepared fixture model, loaded before the
// test goes on: what the HTTP-level tests start (a spawned process is serve-process.ts). The
// cache flags (--cache-memory-mb, --cache-dir, --cache-disk-mb) open an embedding cache as
// serve does.

import { EmbeddingCache } from '../../src/cache/embedding-cache.js';
import { Pipeline } from '../../src/pipeline/pipeline.js';
import { startApp, type App } from '../../src/server/app.js';
import { createLogger, type Logger } from '../../src/server/logger.js';
import { CACHE_TABLE } from '../../src/settings/cache.js';
import type { Int8Weights } from '../../src/engine/int8-kernels.js';
import { serveConfig } from '../../src/settings/serve.js';
import { readAll, type Flags } from '../../src/settings/setting.js';

export interface FixtureAppOptions {
  /** Holds the session's load (the early part is told at once) until it resolves. */
  gate?: Promise<void>;
  int8Weights?: Int8Weights;
  instruction?: string;
  log?: Logger;
  /** Wait for the model before returning (default). */
  waitForModel?: boolean;
  /** A prepared cross-encoder to serve as the reranker (loaded on its first request). */
  rerankerDir?: string;
}

export async function openCache(flags: Flags, log: Logger = createLogger('error')): Promise<EmbeddingCache> {
  const c = readAll(CACHE_TABLE, { 'cache-memory-mb': '0', ...flags }, {});
  return EmbeddingCache.open({ memoryBytes: c.cacheMemoryMb * 2 ** 20, dir: c.cacheDir, diskBytes: c.cacheDiskMb * 2 ** 20, log: (level, message, fields) => log[level](message, fields) });
}

export async function startFixtureApp(preparedDir: string, flags: Flags = {}, opts: FixtureAppOptions = {}): Promise<App> {
  const log = opts.log ?? createLogger('error');
  const cacheFlags = Object.fromEntries(Object.entries(flags).filter(([k]) => k.startsWith('cache-')));
  const httpFlags = Object.fromEntries(Object.entries(flags).filter(([k]) => !k.startsWith('cache-')));
  const app = await startApp({
    cfg: serveConfig({ host: '127.0.0.1', port: '0', ...httpFlags }, {}),
    batchTokens: 256,
    log,
    cache: Object.keys(cacheFlags).length > 0 ? await openCache(cacheFlags, log) : undefined,
    load: (early) => Pipeline.load(preparedDir, { threads: 1, batchTokens: 256, int8Weights: opts.int8Weights, instruction: opts.instruction }, (known) => {
      early(known);
    }).then(async (p) => {
      await opts.gate;
      return p;
    }),
    info: () => ({}),
    exit: () => {},
    ...(opts.rerankerDir !== undefined ? { reranker: { name: 'fixture-reranker', preload: false, load: () => Pipeline.load(opts.rerankerDir as string, { threads: 1, batchTokens: 256 }) } } : {}),
  });
  if (opts.waitForModel !== false) await app.service.model();
  return app;
}
