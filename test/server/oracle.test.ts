// The service's vectors against a reference that shares none of its code: ids from the Rust
// `tokenizers` package, the original fp32 export run by onnxruntime directly, one text at a
// time, the mean of the last hidden state over the tokens, L2. Every route, both encodings,
// batched and alone, over-long inputs cut to 512 tokens. (The fp32 graph is batch-invariant,
// so a batched vector must equal the one computed alone; int8 is checked against its exact
// reference in engine/cross-cpu.test.ts.)

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { InferenceSession } from 'onnxruntime-node';
import { ort } from '../../src/engine/onnx-session.js';
import { FIXTURE_TOKENIZER_JSON } from '../helpers/fixtures.js';
import { preparedFixture } from '../helpers/models.js';
import { Oracle, rustDecode } from '../helpers/oracle.js';
import { spawnServe, type ServeProcess } from '../helpers/serve-process.js';

let s: ServeProcess;
let raw: InferenceSession;
const tokenizer = new Oracle(FIXTURE_TOKENIZER_JSON, 512);
const fromLeft = new Oracle(FIXTURE_TOKENIZER_JSON, 512, 'left');

before(async () => {
  const { modelDir } = await preparedFixture('tiny', 'fp32');
  const o = await ort();
  raw = await o.InferenceSession.create(join(modelDir, 'onnx', 'model.onnx'));
  // No wait bound: the concurrency test queues work on purpose, and how long it takes is this
  // machine's speed (the bound itself is core/queue.test.ts's).
  s = await spawnServe(['--model-dir', modelDir, '--dtype', 'fp32', '--threads', '1', '--max-queue-wait', '10m']);
  await s.waitFor('model ready');
});
after(async () => {
  s.child.kill('SIGTERM');
  await s.exited;
  await raw.release();
});

/** The last hidden state of one text, as sent to the model: [tokens × dim]. */
async function hidden(text: string, direction: 'left' | 'right' = 'right'): Promise<{ h: Float32Array; n: number; dim: number }> {
  const [{ ids }] = await (direction === 'left' ? fromLeft : tokenizer).encodeAll([text]);
  const o = await ort();
  const n = ids.length;
  const out = await raw.run({
    input_ids: new o.Tensor('int64', BigInt64Array.from(ids.map(BigInt)), [1, n]),
    attention_mask: new o.Tensor('int64', new BigInt64Array(n).fill(1n), [1, n]),
  });
  const h = out.last_hidden_state.data as Float32Array;
  return { h, n, dim: h.length / n };
}

/** The reference vector of one text, as sent to the model (prefix included). */
async function reference(text: string, normalize = true, direction: 'left' | 'right' = 'right'): Promise<number[]> {
  const { h, n, dim } = await hidden(text, direction);
  const v = new Array<number>(dim).fill(0);
  for (let t = 0; t < n; t++) for (let i = 0; i < dim; i++) v[i] += h[t * dim + i] / n;
  if (!normalize) return v;
  const norm = Math.hypot(...v);
  return v.map((x) => x / norm);
}

function assertSame(got: ArrayLike<number>, want: number[], what: string): void {
  assert.equal(got.length, want.length, what);
  let worst = 0;
  for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]));
  assert.ok(worst <= 2e-6, `${what}: max |diff| ${worst}`);
}

const post = async (path: string, body: unknown): Promise<Response> =>
  fetch(s.url + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

/** The response, when it is a 200; otherwise the failure names its status and body. */
async function ok<T>(answer: Promise<Response>): Promise<T> {
  const r = await answer;
  if (r.status !== 200) assert.fail(`${r.url}: ${r.status} ${await r.text()}`);
  return (await r.json()) as T;
}

const TEXTS = ['привет, мир', 'passage: Le chat dort sur le canapé.', 'how much protein should a woman eat', '東京は日本の首都です', 'x'];
const LONG = 'многоязычный текст с разными словами '.repeat(400);

test('/v1/embeddings, float, batched with an over-long input: each vector is the reference\'s of that text alone', async () => {
  const input = [...TEXTS, LONG];
  const r = await post('/v1/embeddings', { input, encoding_format: 'float' });
  assert.equal(r.status, 200);
  assert.equal(r.headers.get('x-truncated-inputs'), '1');
  const body = (await r.json()) as { data: Array<{ index: number; embedding: number[] }> };
  for (const [i, text] of input.entries()) {
    assert.equal(body.data[i].index, i);
    const sent = text.startsWith('passage: ') ? text : `query: ${text}`;
    assertSame(body.data[i].embedding, await reference(sent), `input ${i}`);
  }
});

test('/v1/embeddings, base64 and a single string, input_type passage', async () => {
  const r = await post('/v1/embeddings', { input: TEXTS[2], encoding_format: 'base64', input_type: 'passage' });
  const body = (await r.json()) as { data: Array<{ embedding: string }> };
  const bytes = Buffer.from(body.data[0].embedding, 'base64');
  const v = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4);
  assertSame(v, await reference(`passage: ${TEXTS[2]}`), 'base64');
});

test('TEI /embed: batched, truncated on request, and unnormalized', async () => {
  const r = await post('/embed', { inputs: [TEXTS[0], LONG, TEXTS[3]], truncate: true, prompt_name: 'passage' });
  assert.equal(r.status, 200);
  const vectors = (await r.json()) as number[][];
  assertSame(vectors[0], await reference(`passage: ${TEXTS[0]}`), '/embed 0');
  assertSame(vectors[1], await reference(`passage: ${LONG}`), '/embed long');
  assertSame(vectors[2], await reference(`passage: ${TEXTS[3]}`), '/embed 2');
  const un = (await (await post('/embed', { inputs: TEXTS[4], normalize: false })).json()) as number[][];
  assertSame(un[0], await reference(`query: ${TEXTS[4]}`, false), '/embed unnormalized');
});

test('TEI /embed_all: every token\'s vector is the reference\'s last hidden state; over the limit, a 413', async () => {
  const texts = [TEXTS[0], TEXTS[3]];
  const r = await post('/embed_all', { inputs: texts, prompt_name: 'query' });
  assert.equal(r.status, 200);
  const answer = (await r.json()) as number[][][];
  for (const [i, text] of texts.entries()) {
    const { h, n, dim } = await hidden(`query: ${text}`);
    assert.equal(answer[i].length, n, `input ${i}: one vector per token, specials included`);
    for (let t = 0; t < n; t++) assertSame(answer[i][t], Array.from(h.subarray(t * dim, (t + 1) * dim)), `input ${i}, token ${t}`);
  }
  const over = await post('/embed_all', { inputs: Array.from({ length: 5 }, () => LONG), truncate: true });
  assert.equal(over.status, 413);
  const e = ((await over.json()) as { error: { message: string; code: string } }).error;
  assert.equal(e.code, 'too_many_tokens');
  assert.match(e.message, /2560 tokens in all, over the limit of 2048 token vectors per request/);
});

test('TEI /similarity: the cosine of the reference vectors, source against each sentence', async () => {
  const r = await post('/similarity', { inputs: { source_sentence: TEXTS[0], sentences: [TEXTS[0], TEXTS[2], TEXTS[3]] }, parameters: { prompt_name: 'passage' } });
  assert.equal(r.status, 200);
  const scores = (await r.json()) as number[];
  const src = await reference(`passage: ${TEXTS[0]}`);
  const want = await Promise.all([TEXTS[0], TEXTS[2], TEXTS[3]].map(async (t) => (await reference(`passage: ${t}`)).reduce((s, x, i) => s + x * src[i], 0)));
  assertSame(scores, want, '/similarity');
  assert.equal((await post('/similarity', { inputs: { source_sentence: 'x', sentences: [] } })).status, 400);
});

test('TEI /decode: the model\'s ids back to the text the Rust library gives', async () => {
  const ids = (await tokenizer.encodeAll(['query: привет, мир!', 'Le chat <mask> dort'])).map((e) => e.ids);
  const r = await post('/decode', { ids });
  assert.equal(r.status, 200);
  assert.deepEqual(await r.json(), await rustDecode(FIXTURE_TOKENIZER_JSON, ids, true));
  const kept = await post('/decode', { ids: ids[1], skip_special_tokens: false });
  assert.deepEqual(await kept.json(), await rustDecode(FIXTURE_TOKENIZER_JSON, [ids[1]], false));
  const bad = await post('/decode', { ids: [[0, 5, 999999]] });
  assert.equal(bad.status, 400);
  assert.equal(((await bad.json()) as { error: { param: string } }).error.param, 'ids.0.2');
});

// A long text whose beginning and end differ, so the end that is cut shows in the vector.
const HEAD_TAIL = Array.from({ length: 900 }, (_, i) => `слово${i}`).join(' ');

test('truncation_direction on every route that takes it: left keeps the end, right the beginning', async () => {
  const left = await reference(`query: ${HEAD_TAIL}`, true, 'left');
  const right = await reference(`query: ${HEAD_TAIL}`, true, 'right');
  assert.ok(Math.max(...left.map((x, i) => Math.abs(x - right[i]))) > 1e-2, 'the two ends give different vectors');
  for (const d of ['left', 'Left', 'right', 'Right'] as const) {
    const want = d.toLowerCase() === 'left' ? left : right;
    const e = (await (await post('/embed', { inputs: HEAD_TAIL, truncate: true, truncation_direction: d })).json()) as number[][];
    assertSame(e[0], want, `/embed ${d}`);
    const sim = (await (await post('/similarity', { inputs: { source_sentence: HEAD_TAIL, sentences: [TEXTS[0]] }, parameters: { truncate: true, truncation_direction: d } })).json()) as number[];
    const other = await reference(`query: ${TEXTS[0]}`);
    assertSame(sim, [want.reduce((s, x, i) => s + x * other[i], 0)], `/similarity ${d}`);
  }
  const all = (await (await post('/embed_all', { inputs: HEAD_TAIL, truncate: true, truncation_direction: 'left' })).json()) as number[][][];
  const { h, n, dim } = await hidden(`query: ${HEAD_TAIL}`, 'left');
  assert.equal(all[0].length, n);
  for (const t of [0, 1, n - 2, n - 1]) assertSame(all[0][t], Array.from(h.subarray(t * dim, (t + 1) * dim)), `/embed_all left, token ${t}`);
  // /v1/embeddings always cuts the end off (OpenAI has no direction).
  const o = (await (await post('/v1/embeddings', { input: HEAD_TAIL })).json()) as { data: Array<{ embedding: number[] }> };
  assertSame(o.data[0].embedding, right, '/v1/embeddings');
});

test('dimensions on every route that takes it: the model\'s own gives the same vector, any other a 400 naming it', async () => {
  const want = await reference(`query: ${TEXTS[2]}`);
  const dim = want.length;
  const openai = (await (await post('/v1/embeddings', { input: TEXTS[2], dimensions: dim })).json()) as { data: Array<{ embedding: number[] }> };
  assertSame(openai.data[0].embedding, want, '/v1/embeddings dimensions');
  for (const dimensions of [dim, null]) assertSame(((await (await post('/embed', { inputs: TEXTS[2], dimensions })).json()) as number[][])[0], want, `/embed dimensions ${dimensions}`);
  for (const [path, body] of [['/v1/embeddings', { input: TEXTS[2] }], ['/embed', { inputs: TEXTS[2] }]] as const) {
    for (const dimensions of [dim - 1, dim / 2, 0, dim * 2]) {
      const r = await post(path, { ...body, dimensions });
      assert.equal(r.status, 400, `${path} dimensions ${dimensions}`);
      assert.equal(((await r.json()) as { error: { param: string } }).error.param, 'dimensions');
    }
  }
});

test('token ids: /embed with the model\'s ids is L2-normalized (or raw when asked); /v1/embeddings with cl100k ids is the text\'s vector', async () => {
  const text = `query: ${TEXTS[3]}`;
  const [{ ids }] = await tokenizer.encodeAll([text]);
  const normalized = ((await (await post('/embed', { inputs: ids })).json()) as number[][])[0];
  assertSame(normalized, await reference(text), '/embed ids');
  assert.ok(Math.abs(Math.hypot(...normalized) - 1) < 1e-6, 'unit length');
  const raw = ((await (await post('/embed', { inputs: [ids], normalize: false })).json()) as number[][])[0];
  assertSame(raw, await reference(text, false), '/embed ids, normalize false');
  const { encode } = await import('gpt-tokenizer/encoding/cl100k_base');
  const o = (await (await post('/v1/embeddings', { input: [encode(TEXTS[3])] })).json()) as { data: Array<{ embedding: number[] }> };
  assertSame(o.data[0].embedding, await reference(text), '/v1/embeddings cl100k ids');
});

test('concurrent requests of distinct texts on every embedding route: each gets its own vectors, exactly', async () => {
  const texts = Array.from({ length: 24 }, (_, i) => `${TEXTS[i % TEXTS.length]} №${i} ${'слово '.repeat(i % 7)}`);
  const want = await Promise.all(texts.map((t) => reference(t.startsWith('passage: ') ? t : `query: ${t}`)));
  // Runs of at most 256 padded tokens: these short texts' runs, not those of the work ahead (512 each).
  const runsSoFar = async (): Promise<number> => {
    const m = /^ortos_batch_padded_tokens_bucket\{le="256"\} (\d+)$/m.exec(await (await fetch(`${s.url}/metrics`)).text());
    assert.ok(m !== null, 'batch metrics are exported');
    return Number(m[1]);
  };
  const before = await runsSoFar();
  // Work ahead of them in the queue, so the requests below wait together and share runs (not
  // from the embedding cache, which has LONG from the tests above).
  const ahead = fetch(`${s.url}/embed`, { method: 'POST', headers: { 'content-type': 'application/json', 'cache-control': 'no-store' }, body: JSON.stringify({ inputs: Array.from({ length: 64 }, () => LONG), truncate: true }) });
  for (;;) {
    const q = /^ortos_queue_inputs (\d+)$/m.exec(await (await fetch(`${s.url}/metrics`)).text());
    if (q !== null && Number(q[1]) > 0) break;
  }
  const calls = texts.map(async (t, i) => {
    switch (i % 4) {
      case 0: {
        const b = await ok<{ data: Array<{ embedding: number[] }> }>(post('/v1/embeddings', { input: [t, texts[(i + 1) % texts.length]] }));
        assertSame(b.data[0].embedding, want[i], `request ${i} (/v1/embeddings), its first input`);
        assertSame(b.data[1].embedding, want[(i + 1) % texts.length], `request ${i} (/v1/embeddings), its second input`);
        return;
      }
      case 1:
        assertSame((await ok<number[][]>(post('/embed', { inputs: t })))[0], want[i], `request ${i} (/embed)`);
        return;
      case 2: {
        const s = await ok<number[]>(post('/similarity', { inputs: { source_sentence: t, sentences: [texts[0]] } }));
        assertSame(s, [want[i].reduce((acc, x, k) => acc + x * want[0][k], 0)], `request ${i} (/similarity)`);
        return;
      }
      default: {
        const o = await ok<{ data: Array<{ embedding: string }> }>(post('/v1/embeddings', { input: t, encoding_format: 'base64' }));
        const bytes = Buffer.from(o.data[0].embedding, 'base64');
        assertSame(new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4), want[i], `request ${i} (/v1/embeddings base64)`);
      }
    }
  });
  await Promise.all(calls);
  assert.equal((await ahead).status, 200);
  const runs = (await runsSoFar()) - before;
  assert.ok(runs > 0 && runs < texts.length / 2, `the 24 requests shared model runs: ${runs} runs`);
});
