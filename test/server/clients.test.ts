// The clients people reach the service with, unchanged, against the real server on loopback:
// the official openai client (float and base64), the Vercel AI SDK's OpenAI-compatible
// provider (embedMany), LangChain JS's OpenAIEmbeddings (batches of 512, 2 at a time), and
// LangChain Python's exact wire behaviour, reproduced from langchain_openai/embeddings/base.py:
// cl100k_base ids (tiktoken encode_ordinary) in chunks of 8191, sent in batches of 1000
// arrays, base64 answers (the openai Python client's default), chunk vectors averaged by their
// token counts and normalized. Each must give the service's own vectors of the same texts.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import { OpenAIEmbeddings } from '@langchain/openai';
import { embedMany } from 'ai';
import { encode } from 'gpt-tokenizer/encoding/cl100k_base';
import OpenAI from 'openai';
import { preparedFixture } from '../helpers/models.js';
import { startApp, type App } from '../../src/server/app.js';
import { startFixtureApp } from '../helpers/fixture-app.js';
import { serveConfig } from '../../src/settings/serve.js';
import { createLogger } from '../../src/server/logger.js';
import { assertVector } from '../helpers/vectors.js';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../helpers/fixtures.js';
import { skipOrFail } from '../helpers/skip.js';

const KEY = 'clients-test-key-0123';
let app: App;
let url: string;

const TEXTS = [
  'сколько стоит доставка в Новосибирск',
  'Le chat dort sur le canapé pendant que la pluie tombe.',
  'how much protein should a woman eat',
  '東京は日本の首都であり、世界最大の都市圏の一つです。',
  'Kiswahili ni lugha inayozungumzwa katika Afrika Mashariki.',
];

before(async () => {
  const { preparedDir } = await preparedFixture('tiny', 'int8');
  app = await startFixtureApp(preparedDir, { 'api-key': KEY });
  url = app.url;
});
after(async () => app.shutdown('test'));

/** The service's own vectors of texts, asked for plainly (float, one request). */
async function own(texts: string[]): Promise<number[][]> {
  const r = await fetch(`${url}/v1/embeddings`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}` }, body: JSON.stringify({ input: texts }) });
  assert.equal(r.status, 200);
  return ((await r.json()) as { data: Array<{ embedding: number[] }> }).data.map((d) => d.embedding);
}

/**
 * Element by element. int8 activations are quantized per batch, so a text run in a batch of
 * other texts moves by ~1e-5: `tolerance` is float32 rounding where the batches are the same.
 */
function assertSameVectors(got: ArrayLike<number>[], want: number[][], who: string, tolerance = 2e-6): void {
  assert.equal(got.length, want.length, who);
  got.forEach((v, i) => assertVector(v, want[i], `${who}, text ${i}`, tolerance));
}

test('openai client: float and base64 (its default) give the service\'s vectors', async () => {
  const client = new OpenAI({ apiKey: KEY, baseURL: `${url}/v1` });
  const want = await own(TEXTS);
  const b64 = await client.embeddings.create({ model: 'e5', input: TEXTS });
  assertSameVectors(b64.data.map((d) => d.embedding), want, 'openai base64');
  const float = await client.embeddings.create({ model: 'e5', input: TEXTS, encoding_format: 'float' });
  assertSameVectors(float.data.map((d) => d.embedding), want, 'openai float');
  assert.deepEqual(float.data.map((d) => d.index), [0, 1, 2, 3, 4]);
});

test('Vercel AI SDK, OpenAI-compatible provider: embedMany (sends dimensions-free float requests, reads by position)', async () => {
  const seen: Array<Record<string, unknown>> = [];
  const provider = createOpenAICompatible({
    name: 'ortos',
    baseURL: `${url}/v1`,
    apiKey: KEY,
    fetch: async (input, init) => {
      seen.push(JSON.parse(String(init?.body)) as Record<string, unknown>);
      return fetch(input, init);
    },
  });
  const { embeddings } = await embedMany({ model: provider.embeddingModel('multilingual-e5-base'), values: TEXTS });
  assertSameVectors(embeddings, await own(TEXTS), 'AI SDK');
  assert.equal(seen[0].encoding_format, 'float');
});

test('LangChain JS OpenAIEmbeddings: 600 texts in batches of 512, two at a time, and embedQuery', async () => {
  const texts = Array.from({ length: 600 }, (_, i) => `${TEXTS[i % TEXTS.length]} ${i}`);
  const lc = new OpenAIEmbeddings({ apiKey: KEY, model: 'text-embedding-3-small', configuration: { baseURL: `${url}/v1` } });
  const docs = await lc.embedDocuments(texts);
  assert.equal(docs.length, 600);
  const want = [...(await own(texts.slice(0, 512))), ...(await own(texts.slice(512)))];
  // Its two requests run concurrently and may share model runs, so a text's batch-mates (and
  // with them its int8 activation scale) differ from the plain requests': up to ~1e-3 here.
  assertSameVectors(docs, want, 'LangChain JS (two concurrent requests)', 2e-3);
  assertSameVectors([await lc.embedQuery(TEXTS[0])], await own([TEXTS[0]]), 'LangChain JS query');
});

test('documents through clients that cannot send input_type: the model name chooses the prompt (LangChain JS, the AI SDK, openai)', async () => {
  const docs = TEXTS.slice(0, 3);
  const want = await own(docs.map((t) => `passage: ${t}`));
  const lc = new OpenAIEmbeddings({ apiKey: KEY, model: 'multilingual-e5-base:passage', configuration: { baseURL: `${url}/v1` } });
  assertSameVectors(await lc.embedDocuments(docs), want, 'LangChain JS embedDocuments, model ":passage"');
  const provider = createOpenAICompatible({ name: 'ortos', baseURL: `${url}/v1`, apiKey: KEY });
  const { embeddings } = await embedMany({ model: provider.embeddingModel('multilingual-e5-base:document'), values: docs });
  assertSameVectors(embeddings, want, 'AI SDK, model ":document"');
  const client = new OpenAI({ apiKey: KEY, baseURL: `${url}/v1` });
  const r = await client.embeddings.create({ model: 'e5:passage', input: docs, encoding_format: 'float' });
  assertSameVectors(r.data.map((d) => d.embedding), want, 'openai, model ":passage"');
  assert.equal(r.model, 'e5:passage', 'the name is echoed as sent');
  // input_type, where a client can send it, wins; a plain name keeps the default (query).
  const q = await client.embeddings.create({ model: 'e5:passage', input: docs[0], encoding_format: 'float', input_type: 'query' } as Parameters<typeof client.embeddings.create>[0]);
  assertSameVectors([q.data[0].embedding], await own([`query: ${docs[0]}`]), 'input_type wins');
  const plain = await client.embeddings.create({ model: 'multilingual-e5-base', input: docs[0], encoding_format: 'float' });
  assertSameVectors([plain.data[0].embedding], await own([docs[0]]), 'a plain name: the default prompt');
});

test('documents through LlamaIndex TS and Chroma JS OpenAI embedding classes: the model name chooses the prompt', async (t) => {
  // Installed apart from the project (test/clients): their peer dependencies conflict with its own.
  const clients = join(PROJECT_ROOT, 'test', 'clients');
  if (!existsSync(join(clients, 'node_modules', '@llamaindex', 'openai'))) return skipOrFail(t, 'test/clients is not installed (npm test installs it)');
  const load = createRequire(join(clients, 'package.json'));
  const { OpenAIEmbedding } = load('@llamaindex/openai') as { OpenAIEmbedding: new (o: { model: string; apiKey: string; baseURL: string }) => { getTextEmbeddingsBatch(texts: string[]): Promise<number[][]> } };
  const { OpenAIEmbeddingFunction } = load('@chroma-core/openai') as { OpenAIEmbeddingFunction: new (o: { modelName: string; apiKey: string; apiBase: string }) => { generate(texts: string[]): Promise<number[][]> } };
  const docs = TEXTS.slice(0, 3);
  const want = await own(docs.map((d) => `passage: ${d}`));
  const li = new OpenAIEmbedding({ model: 'multilingual-e5-base:passage', apiKey: KEY, baseURL: `${url}/v1` });
  assertSameVectors(await li.getTextEmbeddingsBatch(docs), want, 'LlamaIndex OpenAIEmbedding');
  const chroma = new OpenAIEmbeddingFunction({ modelName: 'multilingual-e5-base:passage', apiKey: KEY, apiBase: `${url}/v1` });
  assertSameVectors(await chroma.generate(docs), want, 'Chroma OpenAIEmbeddingFunction');
});

/** langchain_openai's _get_len_safe_embeddings and _process_batched_chunked_embeddings, over HTTP. */
async function langchainPython(texts: string[], ctxLength = 8191, chunkSize = 1000): Promise<number[][]> {
  const tokens: number[][] = [];
  const indices: number[] = [];
  texts.forEach((text, i) => {
    const ids = encode(text);
    for (let j = 0; j < ids.length; j += ctxLength) {
      tokens.push(ids.slice(j, j + ctxLength));
      indices.push(i);
    }
  });
  const batched: number[][] = [];
  for (let i = 0; i < tokens.length; i += chunkSize) {
    const r = await fetch(`${url}/v1/embeddings`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}` },
      body: JSON.stringify({ input: tokens.slice(i, i + chunkSize), model: 'text-embedding-ada-002', encoding_format: 'base64' }),
    });
    assert.equal(r.status, 200, await r.clone().text());
    for (const d of ((await r.json()) as { data: Array<{ embedding: string }> }).data) {
      const b = Buffer.from(d.embedding, 'base64');
      batched.push(Array.from(new Float32Array(b.buffer, b.byteOffset, b.length / 4)));
    }
  }
  const results: number[][][] = texts.map(() => []);
  const weights: number[][] = texts.map(() => []);
  indices.forEach((t, i) => {
    results[t].push(batched[i]);
    weights[t].push(tokens[i].length);
  });
  return results.map((chunks, t) => {
    if (chunks.length === 1) return chunks[0];
    const total = weights[t].reduce((a, b) => a + b, 0);
    const avg = chunks[0].map((_, k) => chunks.reduce((s, c, j) => s + c[k] * weights[t][j], 0) / total);
    const norm = Math.hypot(...avg);
    return avg.map((x) => x / norm);
  });
}

test('LangChain Python\'s wire behaviour (cl100k ids, chunked, averaged): the same vectors as the plain texts', async () => {
  assertSameVectors(await langchainPython(TEXTS), await own(TEXTS), 'LangChain Python');
  // A text split into several chunks: each chunk's ids decode to its part of the text, so the
  // result is the average LangChain makes of the plain vectors of those parts.
  const long = TEXTS.join(' ').repeat(6);
  const ids = encode(long);
  const ctx = Math.ceil(ids.length / 3);
  const [viaIds] = await langchainPython([long], ctx);
  const { decode } = await import('gpt-tokenizer/encoding/cl100k_base');
  const parts = [0, 1, 2].map((k) => decode(ids.slice(k * ctx, (k + 1) * ctx)));
  const plain = await own(parts);
  const w = [0, 1, 2].map((k) => ids.slice(k * ctx, (k + 1) * ctx).length);
  const avg = plain[0].map((_, k) => (plain[0][k] * w[0] + plain[1][k] * w[1] + plain[2][k] * w[2]) / (w[0] + w[1] + w[2]));
  const norm = Math.hypot(...avg);
  assertVector(viaIds, avg.map((x) => x / norm), 'chunked text: the normalized token-weighted average');
});

test('token ids outside cl100k_base are a 400 naming the first bad one; --token-ids model and reject', async () => {
  const bad = await fetch(`${url}/v1/embeddings`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}` }, body: JSON.stringify({ input: [[15339, 1917], [15339, 100256, 250000]] }) });
  assert.equal(bad.status, 400);
  const e = ((await bad.json()) as { error: { message: string; param: string } }).error;
  assert.equal(e.param, 'input.1.1');
  assert.match(e.message, /^input\[1\]\[1\] is token id 100256, not in cl100k_base/);
  for (const [mode, status] of [['model', 200], ['reject', 400]] as const) {
    const other = await startApp({
      cfg: serveConfig({ host: '127.0.0.1', port: '0', 'token-ids': mode }, {}),
      batchTokens: 256,
      log: createLogger('error'),
      load: async () => (await app.service.model()),
      info: () => ({}),
      exit: () => {},
    });
    try {
      const r = await fetch(`${other.url}/v1/embeddings`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ input: [[0, 2695, 70514, 2]] }) });
      assert.equal(r.status, status, mode);
      if (mode === 'model') {
        // The model's own ids: the same vector as /embed with those ids.
        const tei = (await (await fetch(`${other.url}/embed`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ inputs: [[0, 2695, 70514, 2]] }) })).json()) as number[][];
        assertSameVectors([((await r.json()) as { data: Array<{ embedding: number[] }> }).data[0].embedding], tei, 'model ids');
      } else {
        assert.match(((await r.json()) as { error: { message: string } }).error.message, /token ids are not accepted here \(--token-ids reject\)/);
      }
    } finally {
      // The pipeline belongs to the main app: close only the server.
      await new Promise((r) => other.server.close(r));
      other.server.closeAllConnections();
    }
  }
});

test('the key is taken as Bearer, bare in Authorization, or in api-key; user is ignored; other dimensions are refused', async () => {
  for (const headers of [{ authorization: `Bearer ${KEY}` }, { authorization: KEY }, { 'api-key': KEY }]) {
    const r = await fetch(`${url}/v1/embeddings`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ input: 'x', user: 'someone' }) });
    assert.equal(r.status, 200, JSON.stringify(headers));
  }
  for (const headers of [{}, { authorization: 'Bearer wrong-key-0123' }, { 'api-key': 'wrong' }, { 'x-api-key': KEY }]) {
    const r = await fetch(`${url}/v1/embeddings`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: '{"input":"x"}' });
    assert.equal(r.status, 401, JSON.stringify(headers));
  }
  const dims = await fetch(`${url}/v1/embeddings`, { method: 'POST', headers: { 'content-type': 'application/json', 'api-key': KEY }, body: JSON.stringify({ input: 'x', dimensions: 16 }) });
  assert.equal(dims.status, 400);
  assert.match(((await dims.json()) as { error: { message: string } }).error.message, /dimensions: only 32 is supported; .* not trained for shortened/);
});
