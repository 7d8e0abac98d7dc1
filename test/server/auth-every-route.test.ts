// Every route in the route table, asked without the key, with a wrong key and with the right
// one, on a real server on loopback. The routes open without the key are named here, not read
// from the table: a route that the table marks open by mistake must fail this test.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { preparedFixture } from '../helpers/models.js';
import type { App } from '../../src/server/app.js';
import { startFixtureApp } from '../helpers/fixture-app.js';
import { serveConfig } from '../../src/settings/serve.js';
import { Metrics } from '../../src/server/metrics.js';
import { buildRoutes } from '../../src/server/routes.js';
import { EmbeddingService } from '../../src/service/embedding-service.js';
import { RerankService } from '../../src/service/rerank-service.js';

const KEY = 'route-key-0123456789';
let preparedDir: string;
let rerankerDir: string;
before(async () => {
  preparedDir = (await preparedFixture('tiny', 'int8')).preparedDir;
  rerankerDir = (await preparedFixture('rerank-tiny', 'int8')).preparedDir;
});

/** The table as the server builds it for these flags (and a reranker, every test here serves one): path → method. */
function routeTable(flags: Record<string, string | boolean>): Array<[string, string]> {
  const cfg = serveConfig({ host: '127.0.0.1', port: '0', 'api-key': KEY, ...flags }, {});
  const metrics = new Metrics({ queued: () => 0, waitingForModel: () => 0 });
  const service = new EmbeddingService({ loadTimeoutMs: 1000, batchTokens: 256, maxQueuedInputs: 10, maxQueueWaitMs: 1000 }, metrics);
  const reranker = new RerankService('reranker', () => Promise.reject(new Error('not loaded here')), service, 1000);
  return [...buildRoutes(cfg, service, metrics, () => ({}), reranker).entries()].map(([path, r]) => [path, r.method]);
}

const BODIES: Record<string, unknown> = {
  '/v1/embeddings': { input: 'x' },
  '/embed': { inputs: 'x' },
  '/embed_all': { inputs: 'x' },
  '/similarity': { inputs: { source_sentence: 'x', sentences: ['y'] } },
  '/tokenize': { inputs: 'x' },
  '/decode': { ids: [0, 2] },
  '/rerank': { query: 'q', texts: ['a'] },
  '/v1/rerank': { query: 'q', documents: ['a'] },
  '/v2/rerank': { query: 'q', documents: ['a'] },
};

async function call(app: App, path: string, method: string, headers: Record<string, string>): Promise<Response> {
  const body = method === 'POST' ? JSON.stringify(BODIES[path] ?? {}) : undefined;
  return fetch(app.url + path, { method, headers: { 'content-type': 'application/json', ...headers }, body });
}

for (const [flags, open] of [
  [{}, ['/health']],
  [{ 'metrics-open': true, 'docs-open': true }, ['/health', '/metrics', '/openapi.json', '/docs', '/docs/swagger-ui.css', '/docs/swagger-ui-bundle.js']],
] as const) {
  describe(`with a key${Object.keys(flags).length ? ` and ${Object.keys(flags).map((f) => `--${f}`).join(' ')}` : ''}`, () => {
    let app: App;
    before(async () => {
      app = await startFixtureApp(preparedDir, { 'api-key': KEY, ...flags }, { rerankerDir });
    });
    after(async () => app.shutdown('test'));

    test(`every route but ${open.join(', ')} answers 401 without the key or with a wrong one, and works with it`, async () => {
      const table = routeTable(flags);
      assert.ok(table.length >= 12, `the table has ${table.length} routes`);
      for (const path of Object.keys(BODIES)) assert.ok(table.some(([p]) => p === path), `${path} is in the table`);
      for (const [path, method] of table) {
        for (const headers of [{}, { authorization: 'Bearer wrong-key-0000' }, { 'api-key': 'wrong-key-0000' }] as Array<Record<string, string>>) {
          const r = await call(app, path, method, headers);
          const isOpen = (open as readonly string[]).includes(path);
          if (isOpen) {
            assert.notEqual(r.status, 401, `${method} ${path} is open`);
            await r.arrayBuffer();
          } else {
            assert.equal(r.status, 401, `${method} ${path} with ${JSON.stringify(headers)}: ${r.status}`);
            const err = ((await r.json()) as { error: { type: string } }).error;
            assert.equal(err.type, 'authentication_error', path);
          }
        }
        const ok = await call(app, path, method, { authorization: `Bearer ${KEY}` });
        assert.equal(ok.status, 200, `${method} ${path} with the key: ${ok.status}`);
        await ok.arrayBuffer();
      }
    });
  });
}
