// A public endpoint gets garbage. Every case here must get a 4xx JSON error (or a correct
// 2xx), never a 5xx; afterwards the process is still up, its memory bounded, and a known
// request returns the same vector as before.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import { preparedFixture } from '../helpers/models.js';
import { jsonRequest, rawRequest } from '../helpers/raw-http.js';
import { spawnServe, type ServeProcess } from '../helpers/serve-process.js';

let s: ServeProcess;
let baseline: number[];
const statuses = new Map<number, number>();
let sent = 0;

function count(status: number | null): void {
  sent++;
  statuses.set(status ?? 0, (statuses.get(status ?? 0) ?? 0) + 1);
}

async function post(path: string, body: string, headers: Record<string, string> = { 'content-type': 'application/json' }): Promise<Response> {
  const r = await fetch(s.url + path, { method: 'POST', headers, body });
  count(r.status);
  return r;
}

async function known(): Promise<number[]> {
  const r = await post('/v1/embeddings', JSON.stringify({ input: 'query: привет', encoding_format: 'float' }));
  assert.equal(r.status, 200);
  return ((await r.json()) as { data: Array<{ embedding: number[] }> }).data[0].embedding;
}

function rssMB(pid: number): number {
  const m = /^VmRSS:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1] ?? 0) / 1024;
}

async function expect4xx(r: Response | { status: number | null; body: string }, label: string): Promise<void> {
  const status = r.status ?? 0;
  assert.ok(status >= 400 && status < 500, `${label}: status ${status}`);
  const text = r instanceof Response ? await r.text() : r.body;
  if (text.length > 0) {
    const body = JSON.parse(text) as { error?: { message?: string } };
    assert.equal(typeof body.error?.message, 'string', `${label}: JSON error body`);
  }
}

before(async () => {
  const { modelDir } = await preparedFixture('tiny', 'int8');
  s = await spawnServe(['--model-dir', modelDir, '--request-timeout', '2s', '--headers-timeout', '1s', '--max-inputs', '256']);
  await s.waitFor('model ready');
  baseline = await known();
});

after(async () => {
  console.log(`bad input: ${sent} requests sent; by status: ${JSON.stringify(Object.fromEntries([...statuses].sort()))}`);
  s.child.kill('SIGTERM');
  await s.exited;
});

test('malformed bodies, wrong types at every field, empty and huge inputs: 4xx JSON, never 5xx', async () => {
  const bodies: Array<[string, string]> = [
    ['/v1/embeddings', ''],
    ['/v1/embeddings', '{'],
    ['/v1/embeddings', 'null'],
    ['/v1/embeddings', '"input"'],
    ['/v1/embeddings', '{"input": null}'],
    ['/v1/embeddings', '{"input": {}}'],
    ['/v1/embeddings', '{"input": [[]]}'],
    ['/v1/embeddings', '{"input": [1.5]}'],
    ['/v1/embeddings', '{"input": [-1]}'],
    ['/v1/embeddings', '{"input": ["a", 1]}'],
    ['/v1/embeddings', '{"input": "x", "model": 5}'],
    ['/v1/embeddings', '{"input": "x", "encoding_format": null}'],
    ['/v1/embeddings', '{"input": "x", "dimensions": "768"}'],
    ['/v1/embeddings', '{"input": "x", "dimensions": 1e309}'],
    ['/v1/embeddings', '{"input": "x", "input_type": ["query"]}'],
    ['/v1/embeddings', JSON.stringify({ input: Array.from({ length: 300 }, () => 'x') })],
    ['/v1/embeddings', JSON.stringify({ input: 'x'.repeat(40_000) })],
    ['/v1/embeddings', '['.repeat(100_000) + ']'.repeat(100_000)],
    ['/v1/embeddings', '{"input":' + '{"a":'.repeat(50_000) + '1' + '}'.repeat(50_001)],
    ['/embed', '{"inputs": []}'],
    ['/embed', '{"inputs": 5}'],
    ['/embed', '{"inputs": "x", "truncate": "yes"}'],
    ['/embed', '{"inputs": "x", "truncation_direction": "middle"}'],
    ['/embed', '{"inputs": "x", "prompt_name": "classification"}'],
    ['/embed', '{"inputs": "x", "prompt_name": 5}'],
    ['/embed', '{"inputs": "x", "instruction": "e5-base takes none"}'],
    ['/v1/embeddings', '{"input": "x", "instruction": "e5-base takes none"}'],
    ['/v1/embeddings', '{"input": "x", "instruction": 7}'],
    ['/similarity', '{"inputs": {"source_sentence": "a", "sentences": ["b"]}, "parameters": {"prompt_name": "nope"}}'],
    ['/tokenize', '{"inputs": "x", "prompt_name": "nope"}'],
    ['/tokenize', '{"inputs": [null]}'],
    ['/tokenize', '{"inputs": "x", "add_special_tokens": 1}'],
  ];
  for (const [path, body] of bodies) await expect4xx(await post(path, body), `${path} ${body.slice(0, 60)}`);
});

test('valid but odd text is embedded: empty strings, NUL bytes, lone surrogates, control and RTL characters', async () => {
  const texts = ['', ' ', '\u0000', 'a\u0000b', '\ud800', 'x\udfffy', '\u202eRTL\u202c', '\u0007\u001b[31m', '👨\u200d👩\u200d👧', 'ﷺ'.repeat(100)];
  const r = await post('/v1/embeddings', JSON.stringify({ input: texts, encoding_format: 'float' }));
  assert.equal(r.status, 200);
  const body = (await r.json()) as { data: Array<{ embedding: number[] }> };
  assert.equal(body.data.length, texts.length);
  for (const d of body.data) assert.ok(d.embedding.every(Number.isFinite));
  // Token ids (cl100k_base by default) decode to text that is cut to the model's limit.
  const ids = await post('/v1/embeddings', JSON.stringify({ input: Array.from({ length: 30_000 }, () => 7) }));
  assert.equal(ids.status, 200, 'a 30k-id list decodes to a long text, cut to the model limit');
  assert.equal(ids.headers.get('x-truncated-inputs'), '1');
  const tooMany = await post('/v1/embeddings', JSON.stringify({ input: Array.from({ length: 100_000 }, () => 7) }));
  assert.equal(tooMany.status, 413, 'more ids than --max-chars in one input');
});

test('wrong content types, unknown routes and methods, bad HTTP', async () => {
  await expect4xx(await post('/v1/embeddings', '{"input":"x"}', { 'content-type': 'text/plain' }), 'text/plain');
  await expect4xx(await post('/v1/embeddings', '{"input":"x"}', { 'content-type': 'application/x-www-form-urlencoded' }), 'form');
  await expect4xx(await post('/v1/embeddings', '{"input":"x"}', {}), 'no content type');
  for (const [method, path] of [['GET', '/v1/embeddings'], ['PUT', '/embed'], ['DELETE', '/health'], ['GET', '/admin'], ['POST', '/../../etc/passwd'], ['GET', '/%00']]) {
    const r = await fetch(s.url + path, { method });
    count(r.status);
    await expect4xx(r, `${method} ${path}`);
  }
  const garbage = await rawRequest(s.url, ['GARBAGE / HTTP/9.9\r\n\r\n']);
  count(garbage.status);
  assert.equal(garbage.status, 400);
});

test('invalid UTF-8 in the body is read as U+FFFD and embedded, not a crash', async () => {
  const body = Buffer.concat([Buffer.from('{"input": "ab'), Buffer.from([0xff, 0xfe, 0xc3, 0x28, 0xed, 0xa0, 0x80]), Buffer.from('cd"}')]);
  const r = await rawRequest(s.url, [jsonRequest('/v1/embeddings', body)]);
  count(r.status);
  assert.equal(r.status, 200);
});

test('a chunked body that never ends and headers that trickle in are cut off by the timeouts', async () => {
  const endless = await rawRequest(s.url, [
    'POST /v1/embeddings HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n',
    '5\r\n{"inp\r\n',
  ], { timeoutMs: 8000 });
  count(endless.status);
  assert.ok(endless.closedByServer, 'the server closed the endless request');
  assert.ok(endless.ms < 6000, `closed after ${endless.ms} ms`);
  assert.ok(endless.status === null || (endless.status >= 400 && endless.status < 500));

  const slow = await rawRequest(s.url, ['GET /health HTTP/1.1\r\n', 'host: x\r\n', 'x-a: 1\r\n', 'x-b: 2\r\n', 'x-c: 3\r\n', 'x-d: 4\r\n', 'x-e: 5\r\n'], { gapMs: 700, timeoutMs: 8000 });
  count(slow.status);
  assert.ok(slow.closedByServer, 'slowloris connection closed');
  assert.ok(slow.ms < 6000, `closed after ${slow.ms} ms`);
});

test('property: any JSON value as the body of any route gets an answer below 500', async () => {
  const routes = ['/v1/embeddings', '/embed', '/tokenize'];
  await fc.assert(
    fc.asyncProperty(fc.constantFrom(...routes), fc.jsonValue({ maxDepth: 4 }), async (path, value) => {
      const r = await post(path, JSON.stringify(value));
      await r.arrayBuffer();
      return r.status < 500;
    }),
    { numRuns: 150, seed: 42 },
  );
  await fc.assert(
    fc.asyncProperty(
      fc.record({
        input: fc.oneof(fc.string(), fc.array(fc.string({ maxLength: 50 }), { maxLength: 5 }), fc.array(fc.nat({ max: 300_000 }), { maxLength: 5 }), fc.anything()),
        encoding_format: fc.oneof(fc.constant('float'), fc.constant('base64'), fc.anything()),
        dimensions: fc.oneof(fc.constant(32), fc.integer(), fc.anything()),
        input_type: fc.oneof(fc.constant('query'), fc.constant('passage'), fc.anything()),
      }, { requiredKeys: ['input'] }),
      async (body) => {
        const r = await post('/v1/embeddings', JSON.stringify(body));
        await r.arrayBuffer();
        return r.status < 500;
      },
    ),
    { numRuns: 150, seed: 7 },
  );
});

test('afterwards: still up, memory bounded, and the known request gives the same vector', async () => {
  assert.equal(s.child.exitCode, null);
  assert.ok(![...statuses.keys()].some((k) => k >= 500), `5xx seen: ${JSON.stringify([...statuses])}`);
  const rss = rssMB(s.child.pid as number);
  assert.ok(rss < 400, `RSS ${rss} MB`);
  assert.deepEqual(await known(), baseline);
});
