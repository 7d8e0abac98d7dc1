// The reranker over HTTP against an independent reference: each (query, text) pair encoded by
// the Rust tokenizers library (its pair template and longest-first truncation), run through
// onnxruntime on the fixture's own ONNX export (not the prepared graph), then the sigmoid; on an
// XLM-R and a BERT cross-encoder (token types). TEI's /rerank is checked against TEI's published
// schema; Cohere's official client calls /v1/rerank and /v2/rerank unchanged; bad requests get
// 4xx naming the field; the reranker loads on its first request, and its runs take turns with
// embedding requests in the one queue.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Pipeline } from '../../src/pipeline/pipeline.js';
import { startApp, type App } from '../../src/server/app.js';
import { createLogger } from '../../src/server/logger.js';
import { serveConfig } from '../../src/settings/serve.js';
import { ort } from '../../src/engine/onnx-session.js';
import { cachedFixture, onnxFileFor, type FixtureSize } from '../fixture-models/generate.js';
import { FIXTURES, PROJECT_ROOT } from '../helpers/fixtures.js';
import { preparedFixture } from '../helpers/models.js';
import { defaultPreparedDir, prepareModel } from '../../src/prepare/prepare.js';
import { resolveModelDir } from '../../src/model/layout.js';

interface RustEncoding { getIds(): number[]; getTypeIds(): number[]; getAttentionMask(): number[] }
interface RustTokenizer {
  encode(a: string, b: string): Promise<RustEncoding>;
  setTruncation(maxLength: number, options?: { strategy?: string; direction?: string }): void;
}
const rust = createRequire(import.meta.url)('tokenizers') as { Tokenizer: { fromFile(path: string): RustTokenizer } };

const QUERY = 'Как вернуть товар, купленный в интернет-магазине?';
const TEXTS = [
  'Возврат возможен в течение 14 дней после получения заказа.',
  'Доставка по России занимает от двух до семи рабочих дней.',
  'The return policy allows refunds within two weeks.',
  '東京は日本の首都です。',
  'hello',
];
const LONG = Array.from({ length: 400 }, (_, i) => `слово${i % 37} word${i % 11}`).join(' ');

/** Rust pair encoding + onnxruntime on the export + the activation: the reference scores. */
async function referenceScores(modelDir: string, query: string, texts: string[], opts: { maxLength: number; direction?: 'left' | 'right'; raw?: boolean }): Promise<number[]> {
  const tok = rust.Tokenizer.fromFile(join(modelDir, 'tokenizer.json'));
  tok.setTruncation(opts.maxLength, { strategy: 'LongestFirst', direction: opts.direction ?? 'right' });
  const { InferenceSession, Tensor } = await ort();
  const session = await InferenceSession.create(join(modelDir, 'onnx', onnxFileFor('fp32')));
  const scores: number[] = [];
  for (const text of texts) {
    const e = await tok.encode(query, text);
    const n = e.getIds().length;
    const t = (xs: number[]): InstanceType<typeof Tensor> => new Tensor('int64', BigInt64Array.from(xs.map(BigInt)), [1, n]);
    const feeds: Record<string, InstanceType<typeof Tensor>> = { input_ids: t(e.getIds()), attention_mask: t(e.getAttentionMask()) };
    if (session.inputNames.includes('token_type_ids')) feeds.token_type_ids = t(e.getTypeIds());
    const logit = (await session.run(feeds)).logits.data[0] as number;
    scores.push(opts.raw ? logit : 1 / (1 + Math.exp(-logit)));
  }
  await session.release();
  return scores;
}

async function start(rerankDir: string | null, flags: Record<string, string> = {}, gate?: Promise<void>): Promise<App> {
  const embed = (await preparedFixture('tiny', 'int8')).preparedDir;
  let prepared: string | null = null;
  if (rerankDir !== null) {
    const files = resolveModelDir(rerankDir, 'fp32');
    prepared = (await prepareModel(files, defaultPreparedDir(rerankDir, 'fp32'), {}, () => {})).dir;
  }
  return startApp({
    cfg: serveConfig({ host: '127.0.0.1', port: '0', ...flags }, {}),
    batchTokens: 256,
    log: createLogger('error'),
    load: () => Pipeline.load(embed, { threads: 1, batchTokens: 256 }),
    info: () => ({}),
    exit: () => {},
    ...(prepared !== null ? { reranker: { name: 'fixture-reranker', preload: false, load: async () => {
      const p = await Pipeline.load(prepared, { threads: 1, batchTokens: 256 });
      if (gate !== undefined) {
        // Every run waits for the gate: the test decides when the reranker's first run ends.
        const score = p.score.bind(p);
        p.score = async (ids, types) => {
          await gate;
          return score(ids, types);
        };
      }
      return p;
    } } } : {}),
  });
}

async function post(app: App, path: string, body: unknown): Promise<{ status: number; body: unknown }> {
  const res = await fetch(app.url + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, body: await res.json() };
}

const close = (got: number[], want: number[], what: string): void => {
  assert.equal(got.length, want.length, what);
  got.forEach((g, i) => assert.ok(Math.abs(g - want[i]) <= 1e-5, `${what}[${i}]: ${g} vs reference ${want[i]}`));
};

for (const [size, family] of [['rerank-tiny', 'XLM-R'], ['rerank-tiny-bert', 'BERT']] as Array<[FixtureSize, string]>) {
  describe(`${family} cross-encoder`, () => {
    let app: App;
    let dir: string;
    before(async () => {
      dir = cachedFixture(size, 'fp32');
      app = await start(dir);
      await app.service.model();
    });
    after(async () => {
      await app.shutdown('test done');
      await app.service.close();
      await app.reranker?.close();
    });

    test('/rerank and /v1/rerank: every score equals the reference (Rust pair encoding, onnxruntime on the export, sigmoid), best first', { timeout: 120_000 }, async () => {
      const want = await referenceScores(dir, QUERY, TEXTS, { maxLength: 512 });
      const wantRaw = await referenceScores(dir, QUERY, TEXTS, { maxLength: 512, raw: true });
      // Not a vacuous comparison: the passages score apart.
      assert.ok(Math.max(...want) - Math.min(...want) > 1e-3, `scores spread: ${want.join(', ')}`);
      const order = want.map((_, i) => i).sort((a, b) => want[b] - want[a]);
      const tei = (await post(app, '/rerank', { query: QUERY, texts: TEXTS, return_text: true })).body as Array<{ index: number; score: number; text: string }>;
      assert.deepEqual(tei.map((r) => r.index), order, 'best first');
      close(tei.map((r) => r.score), order.map((i) => want[i]), '/rerank');
      assert.deepEqual(tei.map((r) => r.text), order.map((i) => TEXTS[i]));
      const raw = (await post(app, '/rerank', { query: QUERY, texts: TEXTS, raw_scores: true })).body as Array<{ index: number; score: number }>;
      close(raw.map((r) => r.score), raw.map((r) => wantRaw[r.index]), '/rerank raw_scores');
      const cohere = (await post(app, '/v1/rerank', { model: 'any', query: QUERY, documents: TEXTS.map((text, i) => (i % 2 ? text : { text, id: i })) })).body as { results: Array<{ index: number; relevance_score: number; document: Record<string, unknown> }> };
      assert.deepEqual(cohere.results.map((r) => r.index), order);
      close(cohere.results.map((r) => r.relevance_score), order.map((i) => want[i]), '/v1/rerank');
      // Documents come back as sent: objects with their other fields, strings as {text}.
      for (const r of cohere.results) assert.deepEqual(r.document, r.index % 2 ? { text: TEXTS[r.index] } : { text: TEXTS[r.index], id: r.index });
    });

    test('over-long pairs: cut longest first (either side, either direction) exactly as the Rust library; refused with 413 when truncate is false', { timeout: 120_000 }, async () => {
      const cases: Array<[string, string[], 'left' | 'right']> = [
        [QUERY, [LONG], 'right'],
        [LONG, ['короткий текст'], 'right'],
        [LONG, [LONG.split(' ').reverse().join(' ')], 'right'],
        [QUERY, [LONG], 'left'],
      ];
      for (const [query, texts, direction] of cases) {
        const want = await referenceScores(dir, query, texts, { maxLength: 512, direction });
        const got = (await post(app, '/rerank', { query, texts, truncate: true, truncation_direction: direction })).body as Array<{ score: number }>;
        close(got.map((r) => r.score), want, `query of ${query.length} chars, ${direction}`);
      }
      const refused = await post(app, '/rerank', { query: QUERY, texts: ['short', LONG] });
      assert.equal(refused.status, 413);
      assert.equal((refused.body as { error: { param: string } }).error.param, 'texts.1');
      assert.match((refused.body as { error: { message: string } }).error.message, /are more than 512 tokens together, the reranker's limit; send truncate: true/);
      // Cohere and Jina cut long documents rather than refuse them.
      assert.equal((await post(app, '/v1/rerank', { query: QUERY, documents: [LONG] })).status, 200);
    });
  });
}

describe('the HTTP contract', () => {
  let app: App;
  let dir: string;
  before(async () => {
    dir = cachedFixture('rerank-tiny', 'fp32');
    app = await start(dir, { 'max-inputs': '8' });
    await app.service.model();
  });
  after(async () => {
    await app.shutdown('test done');
    await app.service.close();
    await app.reranker?.close();
  });

  test('loaded on its first request, not at wake: embedding requests leave it idle; /ready, /v1/models and /info say so per model', { timeout: 60_000 }, async () => {
    assert.equal((await post(app, '/embed', { inputs: 'привет' })).status, 200);
    assert.deepEqual(await (await fetch(`${app.url}/ready`)).json(), { status: 'ready', models: { embed: 'ready', rerank: 'idle' } });
    assert.equal(app.reranker?.state.status, 'idle');
    assert.equal((await post(app, '/rerank', { query: 'q', texts: ['a'] })).status, 200);
    assert.deepEqual(await (await fetch(`${app.url}/ready`)).json(), { status: 'ready', models: { embed: 'ready', rerank: 'ready' } });
    const models = (await (await fetch(`${app.url}/v1/models`)).json()) as { data: Array<{ id: string; task: string; status: string }> };
    assert.deepEqual(models.data.map((m) => [m.task, m.status]), [['embedding', 'ready'], ['rerank', 'ready']]);
    const info = (await (await fetch(`${app.url}/info`)).json()) as { reranker: { status: string; activation: string; max_input_tokens: number } };
    assert.deepEqual([info.reranker.status, info.reranker.activation, info.reranker.max_input_tokens], ['ready', 'sigmoid', 512]);
  });

  test('TEI\'s published schema accepts our /rerank requests and answers', { timeout: 60_000 }, async () => {
    const tei = JSON.parse(readFileSync(join(FIXTURES, 'tei-rerank-openapi.json'), 'utf8')) as { components: { schemas: Record<string, unknown> } };
    const Ajv = createRequire(import.meta.url)('ajv').default as new (o: object) => { addSchema(s: object, key: string): void; addKeyword(k: string): void; getSchema(ref: string): ((x: unknown) => boolean) & { errors?: unknown } };
    const ajv = new Ajv({ strict: false, allErrors: true });
    // OpenAPI 3.0's example keyword, which JSON Schema does not know (ajv knows nullable).
    ajv.addKeyword('example');
    ajv.addSchema({ components: tei.components }, 'tei');
    const request = ajv.getSchema('tei#/components/schemas/RerankRequest')!;
    const response = ajv.getSchema('tei#/components/schemas/RerankResponse')!;
    const bodies = [
      { query: QUERY, texts: TEXTS },
      { query: QUERY, texts: TEXTS, return_text: true, raw_scores: true, truncate: true, truncation_direction: 'Left' },
    ];
    for (const body of bodies) {
      assert.ok(request(body), `TEI accepts the request: ${JSON.stringify(request.errors)}`);
      const r = await post(app, '/rerank', body);
      assert.equal(r.status, 200);
      assert.ok(response(r.body), `TEI's RerankResponse: ${JSON.stringify(response.errors)}`);
    }
  });

  test('Cohere\'s official client (cohere-ai) calls /v1/rerank and /v2/rerank unchanged', { timeout: 60_000 }, async () => {
    const load = createRequire(join(PROJECT_ROOT, 'test', 'clients', 'package.json'));
    const { CohereClient, CohereClientV2 } = load('cohere-ai') as {
      CohereClient: new (o: { token: string; environment: string }) => { rerank(r: object): Promise<{ results: Array<{ index: number; relevanceScore: number; document?: { text: string } }> }> };
      CohereClientV2: new (o: { token: string; environment: string }) => { rerank(r: object): Promise<{ results: Array<{ index: number; relevanceScore: number }> }> };
    };
    const want = await referenceScores(dir, QUERY, TEXTS, { maxLength: 512 });
    const order = want.map((_, i) => i).sort((a, b) => want[b] - want[a]);
    const v1 = await new CohereClient({ token: 'unused', environment: app.url }).rerank({ model: 'rerank-multilingual-v3.0', query: QUERY, documents: TEXTS, topN: 3, returnDocuments: true });
    assert.deepEqual(v1.results.map((r) => r.index), order.slice(0, 3));
    close(v1.results.map((r) => r.relevanceScore), order.slice(0, 3).map((i) => want[i]), 'cohere-ai v1');
    assert.deepEqual(v1.results.map((r) => r.document?.text), order.slice(0, 3).map((i) => TEXTS[i]));
    const v2 = await new CohereClientV2({ token: 'unused', environment: app.url }).rerank({ model: 'rerank-v3.5', query: QUERY, documents: TEXTS });
    assert.deepEqual(v2.results.map((r) => r.index), order);
    close(v2.results.map((r) => r.relevanceScore), order.map((i) => want[i]), 'cohere-ai v2');
  });

  test('bad requests: 4xx naming the field, never 5xx; top_n above the count returns all (as Cohere), 0 is refused', { timeout: 60_000 }, async () => {
    const cases: Array<[string, unknown, number, string | null, RegExp]> = [
      ['/rerank', { query: 'q', texts: [] }, 400, 'texts', /must not be an empty list/],
      ['/rerank', { query: 'q', texts: ['a', 7] }, 400, 'texts.1', /must be a string/],
      ['/rerank', { texts: ['a'] }, 400, 'query', /has no "query"/],
      ['/rerank', { query: 'q', texts: Array(9).fill('a') }, 413, 'texts', /over the limit of 8 \(--max-inputs\)/],
      ['/v1/rerank', { query: 'q', documents: [] }, 400, 'documents', /must not be an empty list/],
      ['/v1/rerank', { query: 'q', documents: [{ title: 'no text' }] }, 400, 'documents.0', /must be a string or an object with a string "text"/],
      ['/v1/rerank', { query: 'q', documents: ['a'], top_n: 0 }, 400, 'top_n', /at least 1/],
      ['/v1/rerank', { query: 'q', documents: ['a'], top_n: 1.5 }, 400, 'top_n', /integer/],
      ['/v1/rerank', { query: 'q', documents: Array(9).fill('a') }, 413, 'documents', /over the limit of 8/],
      ['/v1/rerank', { query: 7, documents: ['a'] }, 400, 'query', /must be a string/],
    ];
    for (const [path, body, status, param, message] of cases) {
      const r = await post(app, path, body);
      assert.equal(r.status, status, `${path} ${JSON.stringify(body).slice(0, 80)}: ${JSON.stringify(r.body)}`);
      const e = (r.body as { error: { param: string | null; message: string } }).error;
      assert.equal(e.param, param, JSON.stringify(e));
      assert.match(e.message, message);
    }
    const all = (await post(app, '/v1/rerank', { query: 'q', documents: ['a', 'b', 'c'], top_n: 10 })).body as { results: unknown[] };
    assert.equal(all.results.length, 3);
  });
});

test('a rerank request and embedding requests take turns in the one queue: a query sent while 8 pairs wait is answered after one of their runs, not all', { timeout: 60_000 }, async () => {
  let open!: () => void;
  const gate = new Promise<void>((r) => (open = r));
  // No wait bound: on a loaded machine the queue's estimate of 7 long runs could refuse the query (429).
  const app = await start(cachedFixture('rerank-tiny', 'fp32'), { 'max-queue-wait': '10m' }, gate);
  try {
    await app.service.model();
    // Loaded first, so that the held run is a run of the 8 pairs.
    const warm = post(app, '/rerank', { query: 'q', texts: ['a'] });
    open();
    await warm;
    let hold!: () => void;
    const held = new Promise<void>((r) => (hold = r));
    const runs: string[] = [];
    const model = app.reranker!.state.status === 'ready' ? (app.reranker!.state as { model: Pipeline }).model : null;
    const score = model!.score.bind(model);
    let first = true;
    model!.score = async (ids, types) => {
      if (first) {
        first = false;
        await held;
      }
      runs.push('rerank');
      return score(ids, types);
    };
    const embedder = await app.service.model();
    const run = embedder.run.bind(embedder);
    embedder.run = async (ids, tokens) => {
      runs.push('embed');
      return run(ids, tokens);
    };
    // Polled, not slept: this holds on a machine of any speed.
    const until = async (cond: () => boolean): Promise<void> => {
      for (const deadline = Date.now() + 30_000; !cond(); await new Promise((r) => setTimeout(r, 2))) {
        if (Date.now() > deadline) throw new Error(`timed out: first run held ${!first}, ${app.service.queued} inputs queued`);
      }
    };
    // Each pair is one run (512 tokens against a budget of 256): the first is held, 7 wait.
    const rerank = post(app, '/rerank', { query: LONG, texts: Array(8).fill(LONG), truncate: true });
    await until(() => !first && app.service.queued === 7);
    const embed = post(app, '/embed', { inputs: 'быстрый запрос' });
    await until(() => app.service.queued === 8);
    hold();
    assert.equal((await embed).status, 200);
    assert.equal((await rerank).status, 200);
    assert.deepEqual(runs, ['rerank', 'embed', ...Array(7).fill('rerank')], 'the query\'s run came right after the rerank run under way');
  } finally {
    await app.shutdown('test done');
    await app.service.close();
    await app.reranker?.close();
  }
});

test('no reranker configured: its routes answer 404 with how to serve one', { timeout: 60_000 }, async () => {
  const app = await start(null);
  try {
    const r = await post(app, '/v1/rerank', { query: 'q', documents: ['a'] });
    assert.equal(r.status, 404);
    assert.match((r.body as { error: { message: string } }).error.message, /no reranker is served here: start the service with --rerank/);
    const models = (await (await fetch(`${app.url}/v1/models`)).json()) as { data: unknown[] };
    assert.equal(models.data.length, 1);
  } finally {
    await app.shutdown('test done');
    await app.service.close();
  }
});

test('serve --rerank-model-dir with a prepared folder alone (as the image bakes it): reranks, nothing else looked up', { timeout: 120_000 }, async () => {
  const { spawnServe } = await import('../helpers/serve-process.js');
  const { cpSync, mkdtempSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const embed = (await preparedFixture('tiny', 'int8')).modelDir;
  const source = (await preparedFixture('rerank-tiny', 'int8')).preparedDir;
  const alone = join(mkdtempSync(join(tmpdir(), 'ortos-rerank-prepared-')), 'rerank');
  cpSync(source, alone, { recursive: true });
  const s = await spawnServe(['--model-dir', embed, '--rerank-model-dir', alone, '--threads', '1'], { HF_HUB_OFFLINE: '1' });
  try {
    await s.waitFor('model ready', 60_000);
    const r = await fetch(`${s.url}/v1/rerank`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: 'q', documents: ['a', 'b'] }) });
    assert.equal(r.status, 200, await r.clone().text());
    assert.equal(((await r.json()) as { results: unknown[] }).results.length, 2);
    const info = (await (await fetch(`${s.url}/info`)).json()) as { reranker: { status: string; dtype: string } };
    assert.deepEqual([info.reranker.status, info.reranker.dtype], ['ready', 'int8']);
  } finally {
    s.child.kill('SIGTERM');
    await s.exited;
    rmSync(join(alone, '..'), { recursive: true, force: true });
  }
});

test('a cross-encoder given as the embedding model fails to load with what to do, and the reverse too', { timeout: 60_000 }, async () => {
  const rerankPrepared = (await preparedFixture('rerank-tiny', 'int8')).preparedDir;
  const embedPrepared = (await preparedFixture('tiny', 'int8')).preparedDir;
  const app = await startApp({
    cfg: serveConfig({ host: '127.0.0.1', port: '0' }, {}),
    batchTokens: 256,
    log: createLogger('error'),
    load: () => Pipeline.load(rerankPrepared, { threads: 1, batchTokens: 256 }),
    info: () => ({}),
    exit: () => {},
    reranker: { name: 'not a reranker', preload: false, load: () => Pipeline.load(embedPrepared, { threads: 1, batchTokens: 256 }) },
  });
  try {
    await app.service.model().catch(() => {});
    const health = await fetch(`${app.url}/health`);
    assert.equal(health.status, 503);
    assert.match(((await health.json()) as { reason: string }).reason, /is a cross-encoder \(a reranker\), not an embedding model: serve it with --rerank-model-dir/);
    const r = await post(app, '/rerank', { query: 'q', texts: ['a'] });
    assert.equal(r.status, 503);
    assert.match((r.body as { error: { message: string } }).error.message, /is an embedding model, not a cross-encoder/);
  } finally {
    await app.shutdown('test done');
  }
});
