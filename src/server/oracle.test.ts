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
import { ort } from '../engine/onnx-session.js';
import { FIXTURE_TOKENIZER_JSON } from '../testing/fixtures.js';
import { preparedFixture } from '../testing/models.js';
import { Oracle, rustDecode } from '../testing/oracle.js';
import { spawnServe, type ServeProcess } from '../testing/serve-process.js';

let s: ServeProcess;
let raw: InferenceSession;
const tokenizer = new Oracle(FIXTURE_TOKENIZER_JSON, 512);

before(async () => {
  const { modelDir } = await preparedFixture('tiny', 'fp32');
  const o = await ort();
  raw = await o.InferenceSession.create(join(modelDir, 'onnx', 'model.onnx'));
  s = await spawnServe(['--model-dir', modelDir, '--dtype', 'fp32', '--threads', '1']);
  await s.waitFor('model ready');
});
after(async () => {
  s.child.kill('SIGTERM');
  await s.exited;
  await raw.release();
});

/** The last hidden state of one text, as sent to the model: [tokens × dim]. */
async function hidden(text: string): Promise<{ h: Float32Array; n: number; dim: number }> {
  const [{ ids }] = await tokenizer.encodeAll([text]);
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
async function reference(text: string, normalize = true): Promise<number[]> {
  const { h, n, dim } = await hidden(text);
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
