// The API described: /openapi.json is a valid OpenAPI 3.1 document (checked by a maintained
// validator) that lists every route the service has, made from the schemas that validate
// requests; /docs renders it in a real browser (Debian's headless Chromium) with every route
// on the page; both need the key unless --docs-open.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, test } from 'node:test';
import { Validator } from '@seriousme/openapi-schema-validator';
import { preparedFixture } from '../helpers/models.js';
import { spawnServe, type ServeProcess } from '../helpers/serve-process.js';
import { serveConfig } from '../../src/settings/serve.js';
import { Metrics } from '../../src/server/metrics.js';
import { buildRoutes } from '../../src/server/routes.js';
import { DOCS_ASSETS } from '../../src/server/routes/docs.js';
import { EmbeddingService } from '../../src/service/embedding-service.js';
import { RerankService } from '../../src/service/rerank-service.js';
import { skipOrFail } from '../helpers/skip.js';

const KEY = 'docs-test-key-0123';
let open: ServeProcess;
let closed: ServeProcess;

before(async () => {
  const { modelDir } = await preparedFixture('tiny', 'int8');
  // The open one serves a reranker too: its routes are in the document then.
  const reranker = (await preparedFixture('rerank-tiny', 'int8')).modelDir;
  [open, closed] = await Promise.all([
    spawnServe(['--model-dir', modelDir, '--api-key', KEY, '--docs-open', '--rerank-model-dir', reranker]),
    spawnServe(['--model-dir', modelDir, '--api-key', KEY]),
  ]);
  await Promise.all([open.waitFor('model ready'), closed.waitFor('model ready')]);
});
after(async () => {
  for (const s of [open, closed]) s.child.kill('SIGTERM');
  await Promise.all([open.exited, closed.exited]);
});

/** Every route of the service, from its own route table. */
function serviceRoutes(): string[] {
  const cfg = serveConfig({ host: '127.0.0.1' }, {});
  const metrics = new Metrics({ queued: () => 0, waitingForModel: () => 0 });
  const service = new EmbeddingService({ loadTimeoutMs: 1000, batchTokens: 256, maxQueuedInputs: 10, maxQueueWaitMs: 1000 }, metrics);
  const assets = new Set(Object.keys(DOCS_ASSETS).map((f) => `/docs/${f}`));
  const reranker = new RerankService('reranker', () => Promise.reject(new Error('not loaded here')), service, 1000);
  return [...buildRoutes(cfg, service, metrics, () => ({}), reranker).keys()].filter((p) => !assets.has(p)).sort();
}

test('/openapi.json is valid OpenAPI 3.1 and lists every route, with request bodies from the validating schemas', async () => {
  const r = await fetch(`${open.url}/openapi.json`);
  assert.equal(r.status, 200);
  const doc = (await r.json()) as { openapi: string; paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: { properties?: Record<string, unknown>; required?: string[] } }> } }>> };
  const result = await new Validator().validate(doc as unknown as Parameters<Validator['validate']>[0]);
  assert.equal(result.valid, true, JSON.stringify(result.errors, null, 1)?.slice(0, 2000));
  assert.equal(doc.openapi, '3.1.0');
  assert.deepEqual(Object.keys(doc.paths).sort(), serviceRoutes());
  const embeddings = doc.paths['/v1/embeddings'].post.requestBody!.content['application/json'].schema;
  assert.deepEqual(embeddings.required, ['input']);
  assert.ok(embeddings.properties && 'encoding_format' in embeddings.properties && 'input_type' in embeddings.properties);
});

test('every route\'s example body in the document ("Try it out" sends it as it is) works on the live service', async () => {
  const doc = (await (await fetch(`${open.url}/openapi.json`)).json()) as { paths: Record<string, { post?: { requestBody: { content: Record<string, { example?: unknown }> } } }> };
  const posts = Object.entries(doc.paths).filter(([, item]) => item.post !== undefined);
  assert.ok(posts.length >= 6);
  for (const [path, item] of posts) {
    const example = item.post!.requestBody.content['application/json'].example;
    assert.ok(example !== undefined, `${path} has an example`);
    const r = await fetch(`${open.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}` }, body: JSON.stringify(example) });
    assert.equal(r.status, 200, `${path}: ${await r.text()}`);
  }
});

test('/docs and /openapi.json need the key unless --docs-open', async () => {
  for (const path of ['/docs', '/openapi.json', '/docs/swagger-ui-bundle.js']) {
    const refused = await fetch(closed.url + path);
    assert.equal(refused.status, 401, path);
    assert.match(((await refused.json()) as { error: { message: string } }).error.message, /--docs-open/, 'the 401 says how to open the docs');
    assert.equal((await fetch(closed.url + path, { headers: { authorization: `Bearer ${KEY}` } })).status, 200, path);
    assert.equal((await fetch(open.url + path)).status, 200, path);
  }
});

test('/docs renders in headless Chromium with every route on the page', async (t) => {
  const chromium = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
  if (!chromium) return skipOrFail(t, 'needs Debian\'s chromium (apt-get install chromium; .ci/run installs it)');
  const profile = mkdtempSync(join(tmpdir(), 'ortos-chromium-'));
  try {
    // The flags keep Chromium from reaching for the network it would not find here.
    const { stdout } = await promisify(execFile)(chromium, ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', `--user-data-dir=${profile}`, '--virtual-time-budget=20000', '--dump-dom', `${open.url}/docs`], { maxBuffer: 1 << 26, timeout: 120_000 });
    const shown = new Set([...stdout.matchAll(/data-path="([^"]+)"/g)].map((m) => m[1]));
    assert.ok(stdout.includes('ortos-embed'), 'the page shows the document\'s title');
    for (const route of serviceRoutes()) assert.ok(shown.has(route), `${route} is not on the rendered page`);
  } finally {
    rmSync(profile, { recursive: true, force: true });
  }
});
