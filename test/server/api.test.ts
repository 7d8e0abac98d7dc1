// The HTTP API against the real server on loopback (in this process, so vectors can be
// compared with the pipeline's own): the official openai client, TEI-shaped requests,
// auth, limits, queue overload, fairness and a model that is still loading or failed.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import OpenAI from 'openai';
import { ServiceError } from '../../src/core/errors.js';
import { ApiError, fromServiceError } from '../../src/server/api-error.js';
import { Pipeline } from '../../src/pipeline/pipeline.js';
import { preparedFixture } from '../helpers/models.js';
import { startApp, type App, type AppOptions } from '../../src/server/app.js';
import { serveConfig } from '../../src/settings/serve.js';
import { createLogger } from '../../src/server/logger.js';
import { embedTexts } from '../helpers/door.js';

const KEY = 'test-key-0123456789';
let preparedDir: string;
let reference: Pipeline;

before(async () => {
  preparedDir = (await preparedFixture('tiny', 'int8')).preparedDir;
  reference = await Pipeline.load(preparedDir, { threads: 1, batchTokens: 256 });
});
after(async () => reference.close());

async function start(flags: Record<string, string | boolean> = {}, load?: AppOptions['load']): Promise<App> {
  const cfg = serveConfig({ host: '127.0.0.1', port: '0', ...flags }, {});
  return startApp({
    cfg,
    batchTokens: 256,
    log: createLogger('error'),
    load: load ?? (() => Pipeline.load(preparedDir, { threads: 1, batchTokens: 256 })),
    info: () => ({ model_id: 'fixture' }),
    exit: () => {},
  });
}

async function post(app: App, path: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(app.url + path, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });
}

async function errorOf(res: Response): Promise<{ message: string; type: string; code: string; param: string | null }> {
  const body = (await res.json()) as { error: { message: string; type: string; code: string; param: string | null } };
  assert.ok(body.error && typeof body.error.message === 'string', 'errors use the OpenAI shape');
  return body.error;
}

function close(a: Float32Array | number[], b: Float32Array | number[], eps = 1e-6): boolean {
  return a.length === b.length && Array.from(a).every((x, i) => Math.abs(x - Number(b[i])) <= eps);
}

describe('with a loaded model', () => {
  let app: App;
  before(async () => {
    app = await start({ 'api-key': KEY });
    await app.service.model();
  });
  after(async () => app.shutdown('test'));

  test('the official openai client (base64 by default, and float) gets the engine\'s vectors', async () => {
    const client = new OpenAI({ apiKey: KEY, baseURL: `${app.url}/v1` });
    const texts = ['привет мир', 'passage: Москва — столица России'];
    const want = [];
    for (const t of texts) want.push((await embedTexts(reference, [t], { prompt: 'query', normalize: true, truncate: true })).vectors[0]);
    for (const t of [0, 1]) {
      const viaDefault = await client.embeddings.create({ model: 'e5', input: texts[t] });
      assert.ok(close(viaDefault.data[0].embedding, want[t]), 'base64 path');
      const viaFloat = await client.embeddings.create({ model: 'e5', input: texts[t], encoding_format: 'float' });
      assert.ok(close(viaFloat.data[0].embedding, want[t]), 'float path');
      assert.equal(viaFloat.model, 'e5');
      assert.ok(viaFloat.usage.prompt_tokens > 2);
    }
    const both = await client.embeddings.create({ model: 'e5', input: texts, encoding_format: 'float' });
    assert.deepEqual(both.data.map((d) => d.index), [0, 1]);
    assert.equal(both.object, 'list');
  });

  test('input_type passage adds "passage: "; token ids (cl100k_base, as OpenAI clients send) embed their text', async () => {
    const r = await post(app, '/v1/embeddings', { input: 'Москва', input_type: 'passage', encoding_format: 'float' }, { authorization: `Bearer ${KEY}` });
    const got = ((await r.json()) as { data: Array<{ embedding: number[] }> }).data[0].embedding;
    const want = (await embedTexts(reference, ['passage: Москва'], { prompt: 'query', normalize: true, truncate: true })).vectors[0];
    assert.ok(close(got, want));
    const { encode } = await import('gpt-tokenizer/encoding/cl100k_base');
    const r2 = await post(app, '/v1/embeddings', { input: encode('мир'), encoding_format: 'float' }, { authorization: `Bearer ${KEY}` });
    const got2 = ((await r2.json()) as { data: Array<{ embedding: number[] }> }).data[0].embedding;
    assert.ok(close(got2, (await embedTexts(reference, ['мир'], { prompt: 'query', normalize: true, truncate: true })).vectors[0]));
    const bad = await post(app, '/v1/embeddings', { input: [5, 999999] }, { authorization: `Bearer ${KEY}` });
    assert.equal(bad.status, 400);
    assert.match((await errorOf(bad)).message, /^input\[0\]\[1\] is token id 999999, not in cl100k_base/);
    const empty = await post(app, '/v1/embeddings', { input: [[]] }, { authorization: `Bearer ${KEY}` });
    assert.equal((await errorOf(empty)).message, 'input[0] is an empty list of token ids');
  });

  test('TEI /embed and /tokenize', async () => {
    const auth = { authorization: `Bearer ${KEY}` };
    const r = await post(app, '/embed', { inputs: ['один', 'два'], prompt_name: 'passage' }, auth);
    assert.equal(r.status, 200);
    const got = (await r.json()) as number[][];
    const want = await embedTexts(reference, ['один', 'два'], { prompt: 'passage', normalize: true, truncate: true });
    assert.ok(close(got[0], want.vectors[0]));
    const raw = (await (await post(app, '/embed', { inputs: 'один', normalize: false }, auth)).json()) as number[][];
    assert.ok(Math.abs(Math.hypot(...raw[0]) - 1) > 1e-3, 'normalize:false returns the raw mean');

    const long = 'слово '.repeat(600);
    const refused = await post(app, '/embed', { inputs: long }, auth);
    assert.equal(refused.status, 413, 'TEI refuses over-long input unless truncate is set');
    assert.equal((await post(app, '/embed', { inputs: long, truncate: true, truncation_direction: 'Left' }, auth)).status, 200);

    const t = await post(app, '/tokenize', { inputs: 'héllo мир' }, auth);
    const tokens = ((await t.json()) as Array<Array<{ id: number; text: string; special: boolean; start: number; stop: number }>>)[0];
    assert.deepEqual(tokens.map((x) => x.id), reference.tokenizer.encode('héllo мир').ids);
    assert.deepEqual(tokens[0], { id: 0, text: '<s>', special: true, start: 0, stop: 0 });
    assert.equal(tokens.filter((x) => !x.special).map((x) => x.text).join(''), 'héllo мир', 'token texts are the input\'s own spans');
    const noSpecial = ((await (await post(app, '/tokenize', { inputs: ['a'], add_special_tokens: false }, auth)).json()) as unknown[][])[0];
    assert.ok(noSpecial.every((x) => !(x as { special: boolean }).special));
  });

  test('auth: /health is open; everything else needs the key, and every miss is the same 401', async () => {
    assert.equal((await fetch(`${app.url}/health`)).status, 200);
    const cases: Array<Record<string, string>> = [{}, { authorization: 'Bearer wrong-key-123' }, { 'x-api-key': KEY }, { authorization: 'wrong-key-123' }, { 'api-key': 'wrong-key-123' }, { authorization: `Bearer ${'k'.repeat(8000)}` }];
    for (const headers of cases) {
      const r = await post(app, '/v1/embeddings', { input: 'x' }, headers);
      assert.equal(r.status, 401, JSON.stringify(Object.keys(headers)));
      assert.equal((await errorOf(r)).type, 'authentication_error');
    }
    for (const path of ['/ready', '/info', '/metrics']) assert.equal((await fetch(app.url + path)).status, 401, path);
    const info = await fetch(`${app.url}/info`, { headers: { authorization: `Bearer ${KEY}` } });
    const body = (await info.json()) as { limits: { max_inputs: number }; version: string };
    assert.equal(body.limits.max_inputs, 512);
    const metrics = await (await fetch(`${app.url}/metrics`, { headers: { authorization: `Bearer ${KEY}` } })).text();
    assert.match(metrics, /ortos_http_requests_total\{route="\/v1\/embeddings",status="200"\}/);
    assert.match(metrics, /ortos_wake_seconds\{phase="model_ready"\}/);
  });

  test('bad requests get a 4xx JSON error naming the problem', async () => {
    const auth = { authorization: `Bearer ${KEY}` };
    const cases: Array<[string, unknown, Record<string, string>, number, RegExp]> = [
      ['/v1/embeddings', '{"input": ', {}, 400, /not valid JSON/],
      ['/v1/embeddings', { input: 42 }, {}, 400, /input/],
      ['/v1/embeddings', { input: [] }, {}, 400, /empty/],
      ['/v1/embeddings', { input: 'x', dimensions: 256 }, {}, 400, /Matryoshka/],
      ['/v1/embeddings', { input: 'x', encoding_format: 'int8' }, {}, 400, /encoding_format/],
      ['/v1/embeddings', { input: 'x', input_type: 'question' }, {}, 400, /query/],
      ['/v1/embeddings', [1, 2], {}, 400, /JSON object/],
      ['/embed', { inputs: 'x', normalize: 'yes' }, {}, 400, /normalize/],
      ['/v1/embeddings', { input: 'x' }, { 'content-type': 'text/plain' }, 415, /application\/json/],
    ];
    for (const [path, body, headers, status, message] of cases) {
      const r = await post(app, path, body, { ...auth, ...headers });
      assert.equal(r.status, status, `${path} ${JSON.stringify(body)}`);
      assert.match((await errorOf(r)).message, message);
    }
    const notFound = await fetch(`${app.url}/v2/nothing`, { headers: auth });
    assert.equal(notFound.status, 404);
    const wrongMethod = await fetch(`${app.url}/v1/embeddings`, { headers: auth });
    assert.equal(wrongMethod.status, 405);
    assert.equal(wrongMethod.headers.get('allow'), 'POST');
  });
});

describe('mistakes between the two APIs', () => {
  test('a missing field is named, and the other API\'s field is pointed out', async () => {
    const app = await start();
    try {
      const a = await post(app, '/v1/embeddings', { inputs: ['x'] });
      assert.equal(a.status, 400);
      const ea = await errorOf(a);
      assert.equal(ea.message, 'the body has no "input"; "inputs" is what TEI\'s /embed takes, this route takes "input"');
      assert.equal(ea.param, 'input');
      const b = await errorOf(await post(app, '/embed', { input: 'x' }));
      assert.equal(b.message, 'the body has no "inputs"; "input" is what OpenAI\'s /v1/embeddings takes, this route takes "inputs"');
      assert.equal((await errorOf(await post(app, '/tokenize', {}))).message, 'the body has no "inputs"');
    } finally {
      await app.shutdown('test');
    }
  });
});

describe('limits and load', () => {
  test('body size, inputs per request and characters per input are bounded (413)', async () => {
    const app = await start({ 'max-body-bytes': '2048', 'max-inputs': '3', 'max-chars': '100' });
    try {
      const big = await post(app, '/v1/embeddings', { input: 'x'.repeat(5000) });
      assert.equal(big.status, 413);
      assert.match((await errorOf(big)).message, /over the limit of 2048 bytes \(--max-body-bytes\)$/, 'the error names the flag that raises the limit');
      const many = await post(app, '/v1/embeddings', { input: ['a', 'b', 'c', 'd'] });
      assert.equal(many.status, 413);
      assert.match((await errorOf(many)).message, /\(--max-inputs\)$/);
      const long = await post(app, '/embed', { inputs: ['ok', 'y'.repeat(101)] });
      assert.equal(long.status, 413);
      const e = await errorOf(long);
      assert.equal(e.param, 'inputs.1');
      assert.match(e.message, /over the limit of 100 \(--max-chars; within it, inputs are cut to the model's token limit\)$/);
      assert.equal((await post(app, '/v1/embeddings', { input: ['a', 'b', 'c'] })).status, 200);
    } finally {
      await app.shutdown('test');
    }
  });

  test('a flood beyond the queue bound gets 429 with Retry-After; the rest succeed', async () => {
    const app = await start({ 'max-queued-inputs': '40' });
    try {
      await app.service.model();
      const texts = Array.from({ length: 16 }, (_, i) => `текст номер ${i} `.repeat(20));
      const answers = await Promise.all(Array.from({ length: 12 }, () => post(app, '/v1/embeddings', { input: texts })));
      const statuses = answers.map((r) => r.status);
      assert.ok(statuses.includes(429), `statuses ${statuses}`);
      assert.ok(statuses.includes(200));
      assert.ok(statuses.every((s) => s === 200 || s === 429));
      for (const r of answers.filter((x) => x.status === 429)) {
        assert.ok(Number(r.headers.get('retry-after')) >= 1);
        assert.equal((await errorOf(r)).type, 'rate_limit_error');
      }
      assert.equal((await post(app, '/v1/embeddings', { input: 'after the flood' })).status, 200);
    } finally {
      await app.shutdown('test');
    }
  });

  test('a single query behind a 256-input request is not starved (done first)', async () => {
    const app = await start();
    try {
      await app.service.model();
      // The first model run waits until the single query is queued too: what runs next is then
      // the batcher's choice, not a race between the two requests.
      const gate = await holdFirstRun(app);
      const order: string[] = [];
      const big = post(app, '/v1/embeddings', { input: Array.from({ length: 256 }, (_, i) => `длинный текст ${i} `.repeat(8)) }).then((r) => {
        order.push('big');
        return r;
      });
      await until(() => gate.held);
      const small = post(app, '/v1/embeddings', { input: 'короткий запрос' }).then((r) => {
        order.push('small');
        return r;
      });
      await until(() => app.service.queued === gate.queuedAtHold + 1);
      gate.release();
      const [a, b] = await Promise.all([big, small]);
      assert.equal(a.status, 200);
      assert.equal(b.status, 200);
      assert.deepEqual(order, ['small', 'big']);
    } finally {
      await app.shutdown('test');
    }
  });

  test('work for a client that disconnected is dropped before it runs', async () => {
    const app = await start();
    try {
      await app.service.model();
      let closed = 0;
      app.server.on('request', (_req, res) => res.once('close', () => closed++));
      const gate = await holdFirstRun(app);
      const texts = (word: string): string[] => Array.from({ length: 256 }, (_, i) => `${word} ${i} `.repeat(10));
      const doomed = post(app, '/v1/embeddings', { input: texts('текст') });
      await until(() => gate.held);
      const controller = new AbortController();
      const aborted = fetch(`${app.url}/v1/embeddings`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ input: texts('другой') }), signal: controller.signal }).catch(() => null);
      await until(() => app.service.queued === gate.queuedAtHold + 256);
      controller.abort();
      await aborted;
      // The server has seen the client go before the held run ends.
      await until(() => closed === 1);
      gate.release();
      assert.equal((await doomed).status, 200);
      await until(() => app.service.queued === 0 && !app.service.busy);
      assert.equal(gate.rows, 256, 'only the first request\'s rows ran; the aborted request\'s were dropped');
    } finally {
      await app.shutdown('test');
    }
  });
});

/** Polls a condition every few ms (the test's own timeout bounds it). */
async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise((r) => setTimeout(r, 2));
}

/** Holds the first model run until released; counts the rows run. */
async function holdFirstRun(app: App): Promise<{ held: boolean; queuedAtHold: number; rows: number; release(): void }> {
  const model = await app.service.model();
  const run = model.run.bind(model);
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));
  const gate = { held: false, queuedAtHold: 0, rows: 0, release: () => release() };
  model.run = async (ids, tokens) => {
    gate.rows += ids.length;
    if (!gate.held) {
      gate.held = true;
      gate.queuedAtHold = app.service.queued;
      await released;
    }
    return run(ids, tokens);
  };
  return gate;
}

describe('while loading', () => {
  test('a request sent before the model is ready waits and succeeds', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const app = await start({}, async () => {
      await gate;
      return Pipeline.load(preparedDir, { threads: 1, batchTokens: 256 });
    });
    try {
      const health = (await (await fetch(`${app.url}/health`)).json()) as { status: string };
      assert.equal(health.status, 'loading');
      assert.equal((await fetch(`${app.url}/ready`)).status, 503);
      const pending = post(app, '/v1/embeddings', { input: 'рано' });
      // Seen as an operator sees it.
      for (;;) {
        if (/^ortos_requests_waiting_for_model 1$/m.test(await (await fetch(`${app.url}/metrics`)).text())) break;
        await new Promise((r) => setTimeout(r, 2));
      }
      release();
      const r = await pending;
      assert.equal(r.status, 200);
      assert.equal((await fetch(`${app.url}/ready`)).status, 200);
    } finally {
      await app.shutdown('test');
    }
  });

  test('a model that fails to load: /health says failed with the reason, requests get 503 + Retry-After', async () => {
    const app = await start({}, async () => {
      throw new Error('model.onnx.data is truncated');
    });
    try {
      await until(() => app.service.state.status === 'failed');
      const h = await fetch(`${app.url}/health`);
      assert.equal(h.status, 503);
      assert.deepEqual(await h.json(), { status: 'failed', reason: 'model.onnx.data is truncated' });
      const r = await post(app, '/v1/embeddings', { input: 'x' });
      assert.equal(r.status, 503);
      assert.ok(r.headers.get('retry-after'));
      assert.match((await errorOf(r)).message, /truncated/);
    } finally {
      await app.shutdown('test');
    }
  });

  test('loading longer than --load-timeout answers 503 with Retry-After instead of hanging', async () => {
    const app = await start({ 'load-timeout': '200ms' }, () => new Promise<Pipeline>(() => {}));
    try {
      const t0 = Date.now();
      const r = await post(app, '/v1/embeddings', { input: 'x' });
      assert.equal(r.status, 503);
      assert.equal(r.headers.get('retry-after'), '1');
      assert.ok(Date.now() - t0 >= 190, 'it waited for the load timeout, not less');
    } finally {
      await app.shutdown('test');
    }
  });
});

test('ApiError carries status, type and Retry-After', () => {
  const e = new ApiError(429, 'slow down', 'rate_limit_error', 'queue_full', null, 3);
  assert.equal(e.status, 429);
  assert.equal(e.retryAfter, 3);
});

test('each core error kind has one HTTP status, type and Retry-After; other errors pass through', () => {
  const cases: Array<[ServiceError, number, string]> = [
    [new ServiceError('overloaded', 'the queue is full', 'queue_full', 4), 429, 'rate_limit_error'],
    [new ServiceError('unavailable', 'the model is still loading', 'model_loading', 1), 503, 'service_unavailable'],
    [new ServiceError('cancelled', 'client closed the request', 'client_closed'), 499, 'invalid_request_error'],
  ];
  for (const [core, status, type] of cases) {
    const e = fromServiceError(core);
    assert.ok(e instanceof ApiError);
    assert.deepEqual([e.status, e.type, e.code, e.message, e.retryAfter], [status, type, core.code, core.message, core.retryAfterS]);
  }
  const other = new Error('x');
  assert.equal(fromServiceError(other), other);
});
