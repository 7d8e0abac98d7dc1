// The service in this process on loopback, serving a prepared fixture model, loaded before the
// test goes on: what the HTTP-level tests start (a spawned process is serve-process.ts).

import { Pipeline } from '../../src/pipeline/pipeline.js';
import { startApp, type App } from '../../src/server/app.js';
import { createLogger } from '../../src/server/logger.js';
import { serveConfig } from '../../src/settings/serve.js';
import type { Flags } from '../../src/settings/setting.js';

export async function startFixtureApp(preparedDir: string, flags: Flags = {}): Promise<App> {
  const app = await startApp({
    cfg: serveConfig({ host: '127.0.0.1', port: '0', ...flags }, {}),
    batchTokens: 256,
    log: createLogger('error'),
    load: () => Pipeline.load(preparedDir, { threads: 1, batchTokens: 256 }),
    info: () => ({}),
    exit: () => {},
  });
  await app.service.model();
  return app;
}
