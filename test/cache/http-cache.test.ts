// The embedding cache as clients meet it, through the real service on loopback: a hit is the
// very answer a miss gave (byte for byte, every route and encoding, both tiers); a vector is
// never served for another model, revision, dtype, int8 path, prompt, instruction, truncation
// or dimensions; a cached request is answered while the model is still loading; the size
// bounds hold under a flood. The fp32 fixture where answers are compared with a service
// without a cache: its graph is batch-invariant, so "the same answer" is well defined (an int8
// graph quantizes activations per batch, so an int8 vector depends slightly on its batch-mates).

import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { App } from '../../src/server/app.js';
import { startFixtureApp, type FixtureAppOptions } from '../helpers/fixture-app.js';
import { preparedFixture } from '../helpers/models.js';
import type { Flags } from '../../src/settings/setting.js';

let fp32: string;
let int8: string;
const dirs: string[] = [];
const apps: App[] = [];

before(async () => {
  fp32 = (await preparedFixture('tiny', 'fp32')).preparedDir;
  int8 = (await preparedFixture('tiny', 'int8')).preparedDir;
});
after(async () => {
  for (const a of apps) await a.shutdown('test');
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'ortos-cache-'));
  dirs.push(d);
  return d;
}

async function start(preparedDir: string, flags: Flags = {}, opts: FixtureAppOptions = {}): Promise<App> {
  const app = await startFixtureApp(preparedDir, flags, opts);
  apps.push(app);
  return app;
}

interface Answer {
  status: number;
  body: string;
  cached: number;
}

async function post(app: App, path: string, body: unknown, headers: Record<string, string> = {}): Promise<Answer> {
  const r = await fetch(app.url + path, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  return { status: r.status, body: await r.text(), cached: Number(r.headers.get('x-cached-inputs') ?? 0) };
}

/** A copy of a prepared model with its manifest changed (a re-prepared or other model, to the cache). */
function variant(preparedDir: string, change: (manifest: Record<string, unknown>) => void): string {
  const dir = join(tempDir(), 'prepared');
  cpSync(preparedDir, dir, { recursive: true });
  const path = join(dir, 'manifest.json');
  const m = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  change(m);
  writeFileSync(path, JSON.stringify(m, null, 2));
  return dir;
}

const LONG = Array.from({ length: 900 }, (_, i) => `слово${i}`).join(' ');
const REQUESTS: Array<[string, unknown, number]> = [
  ['/v1/embeddings', { input: ['привет', 'как дела?'] }, 2],
  ['/v1/embeddings', { input: 'привет', encoding_format: 'base64' }, 1],
  ['/v1/embeddings', { input: ['привет', 'Le chat dort.'], input_type: 'passage' }, 2],
  ['/embed', { inputs: ['привет', '東京は日本の首都です'], normalize: false }, 2],
  ['/embed', { inputs: ['東京は日本の首都です', 'привет'] }, 2],
  ['/embed', { inputs: LONG, truncate: true, truncation_direction: 'left' }, 1],
  ['/similarity', { inputs: { source_sentence: 'привет', sentences: ['мир', 'как дела?'] } }, 3],
];

test('a hit is byte for byte the answer of a miss, and of a service without a cache: every route and encoding, either tier', { timeout: 120_000 }, async () => {
  const plain = await start(fp32);
  for (const flags of [{ 'cache-memory-mb': '8' }, { 'cache-memory-mb': '0', 'cache-dir': tempDir() }]) {
    const app = await start(fp32, flags);
    for (const [path, body, n] of REQUESTS) {
      const want = await post(plain, path, body);
      const first = await post(app, path, body);
      const second = await post(app, path, body);
      assert.equal(want.status, 200, want.body);
      assert.equal(first.body, want.body, `${path} ${JSON.stringify(body).slice(0, 60)}: the first answer (${JSON.stringify(flags)})`);
      assert.equal(second.body, want.body, `${path}: the second answer`);
      assert.equal(second.cached, n, `${path}: every input of the second from the cache`);
    }
    const info = (await (await fetch(`${app.url}/info`)).json()) as { cache: { hits: number; misses: number } };
    assert.ok(info.cache.hits > 0 && info.cache.misses > 0, JSON.stringify(info.cache));
  }
});

test('Cache-Control: no-store neither reads nor writes the cache; no-cache computes afresh and stores', { timeout: 60_000 }, async () => {
  const app = await start(fp32, { 'cache-memory-mb': '8' });
  const body = { input: 'только для этого теста' };
  assert.equal((await post(app, '/v1/embeddings', body, { 'cache-control': 'no-store' })).cached, 0);
  assert.equal((await post(app, '/v1/embeddings', body)).cached, 0, 'no-store stored nothing');
  assert.equal((await post(app, '/v1/embeddings', body, { 'cache-control': 'max-age=0, no-store' })).cached, 0, 'not read either');
  assert.equal((await post(app, '/v1/embeddings', body, { 'cache-control': 'no-cache' })).cached, 0, 'no-cache does not read');
  const other = { input: 'и этот тоже' };
  await post(app, '/v1/embeddings', other, { 'cache-control': 'no-cache' });
  assert.equal((await post(app, '/v1/embeddings', other)).cached, 1, 'but stores');
});

test('never another setting\'s vector: model files, revision, dtype, int8 path, prompt, instruction, truncation, dimensions', { timeout: 180_000 }, async () => {
  const shared = tempDir();
  const flags = { 'cache-memory-mb': '0', 'cache-dir': shared };
  const text = 'один и тот же текст';

  // dtype (other model files): the same text under fp32, then int8.
  const a = await start(fp32, flags);
  assert.equal((await post(a, '/embed', { inputs: text })).cached, 0);
  assert.equal((await post(a, '/embed', { inputs: text })).cached, 1);
  const b = await start(int8, flags);
  const plainInt8 = await start(int8);
  const onInt8 = await post(b, '/embed', { inputs: text });
  assert.equal(onInt8.cached, 0, 'int8 does not get the fp32 vector');
  assert.equal(onInt8.body, (await post(plainInt8, '/embed', { inputs: text })).body);

  // int8 path: u8 weights where s8 ran before.
  const u8 = await start(int8, flags, { int8Weights: 'u8' });
  const plainU8 = await start(int8, {}, { int8Weights: 'u8' });
  const onU8 = await post(u8, '/embed', { inputs: text });
  assert.equal(onU8.cached, 0, 'u8 weights do not get the s8 vector');
  assert.equal(onU8.body, (await post(plainU8, '/embed', { inputs: text })).body);

  // revision (prepared again from another commit): the same files otherwise.
  const rev = await start(variant(fp32, (m) => (m.origin = { repo: 'ortos-fixture/tiny', revision: 'c0ffee' })), flags);
  assert.equal((await post(rev, '/embed', { inputs: text })).cached, 0, 'another revision does not get the vector');

  // prompt, truncation, dimensions on one model.
  assert.equal((await post(a, '/v1/embeddings', { input: text, input_type: 'passage' })).cached, 0, 'passage: is another input than query:');
  const right = await post(a, '/embed', { inputs: LONG, truncate: true });
  const left = await post(a, '/embed', { inputs: LONG, truncate: true, truncation_direction: 'left' });
  assert.deepEqual([right.cached, left.cached], [0, 0], 'the other end of a long text is another input');
  assert.notEqual(right.body, left.body);
  assert.equal((await post(a, '/embed', { inputs: text, dimensions: 32 })).cached, 1, 'the model\'s own dimensions: the same vector');
  const cut = await post(a, '/embed', { inputs: text, dimensions: 16 });
  assert.equal(cut.status, 400, 'other dimensions are refused, cached or not');

  // instruction, on an instruct model (its rules in the manifest).
  const instruct = variant(fp32, (m) => {
    m.rules = { ...(m.rules as object), prompts: { query: 'Instruct: {instruction}\nQuery: ', passage: '' }, defaultPrompt: 'query', defaultInstruction: 'Given a question' };
  });
  const i = await start(instruct, flags);
  const plainI = await start(instruct);
  const first = await post(i, '/v1/embeddings', { input: text, instruction: 'Retrieve answers' });
  const second = await post(i, '/v1/embeddings', { input: text, instruction: 'Retrieve history facts' });
  assert.deepEqual([first.cached, second.cached], [0, 0], 'another instruction is another input');
  assert.notEqual(first.body, second.body);
  assert.equal(second.body, (await post(plainI, '/v1/embeddings', { input: text, instruction: 'Retrieve history facts' })).body);
  assert.equal((await post(i, '/v1/embeddings', { input: text, instruction: 'Retrieve answers' })).cached, 1);
});

test('a request the cache holds is answered while the model is still loading; others wait for it', { timeout: 120_000 }, async () => {
  const dir = tempDir();
  const flags = { 'cache-memory-mb': '0', 'cache-dir': dir };
  const warm = await startFixtureApp(fp32, flags);
  const cachedBody = { input: ['привет', 'как дела?'] };
  const want = await post(warm, '/v1/embeddings', cachedBody);
  await warm.shutdown('test');

  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const app = await start(fp32, flags, { gate, waitForModel: false });
  assert.equal((await fetch(`${app.url}/ready`)).status, 503);
  const uncached = post(app, '/v1/embeddings', { input: 'этого в кеше нет' });
  let uncachedDone = false;
  void uncached.then(() => (uncachedDone = true));
  const hit = await post(app, '/v1/embeddings', cachedBody);
  assert.equal(hit.body, want.body, `the cached answer, exactly: ${hit.status} ${hit.body.slice(0, 300)}`);
  assert.equal(hit.cached, 2);
  assert.equal((await fetch(`${app.url}/ready`)).status, 503, 'still loading: /ready keeps its meaning');
  assert.deepEqual(await (await fetch(`${app.url}/health`)).json(), { status: 'loading' });
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(uncachedDone, false, 'an input the cache lacks waits for the model');
  release();
  assert.equal((await uncached).status, 200);
});

test('the bounds hold under a flood of distinct inputs, in memory and on disk', { timeout: 180_000 }, async () => {
  const app = await start(fp32, { 'cache-memory-mb': '1', 'cache-dir': tempDir(), 'cache-disk-mb': '1' });
  for (let r = 0; r < 240; r++) {
    const input = Array.from({ length: 50 }, (_, k) => `вход номер ${r * 50 + k}`);
    assert.equal((await post(app, '/v1/embeddings', { input })).status, 200);
  }
  await new Promise((r) => setTimeout(r, 50));
  const { cache } = (await (await fetch(`${app.url}/info`)).json()) as { cache: { memory: { bytes: number; evictions: number }; disk: { bytes: number; evictions: number } } };
  assert.ok(cache.memory.bytes <= 2 ** 20, `memory: ${cache.memory.bytes} bytes`);
  assert.ok(cache.disk.bytes <= 2 ** 20, `disk: ${cache.disk.bytes} bytes`);
  assert.ok(cache.memory.evictions > 0 && cache.disk.evictions > 0, JSON.stringify(cache));
});
