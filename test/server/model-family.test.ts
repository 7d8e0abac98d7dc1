// The multilingual-e5 family and sentence-transformers conventions, end to end: `serve --model
// REPO` downloads from a stand-in hub, reads the model's rules from its files (and the built-in
// table where the repo says nothing), and answers with vectors equal to an independent
// reference: the Rust tokenizer, the plain TypeScript forward pass of the same weights (exact
// int8 arithmetic), the pooling the model's files name, L2.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { cachedFixture, FIXTURE_SEED, shapeOf, type FixtureSize, type FixtureVariant } from '../fixture-models/generate.js';
import { referenceForward } from '../fixture-models/reference-forward.js';
import { randomWeights, type XlmrWeights } from '../fixture-models/xlmr-weights.js';
import { FIXTURE_TOKENIZER_JSON } from '../helpers/fixtures.js';
import { Oracle } from '../helpers/oracle.js';
import { spawnServe, type ServeProcess } from '../helpers/serve-process.js';
import { startStandInHub, type StandInHub } from '../helpers/stand-in-hub.js';
import { cosine } from '../../src/engine/cosine.js';
import { maxAbsDiff } from '../helpers/vectors.js';

const work = mkdtempSync(join(tmpdir(), 'ortos-family-'));
const closers: Array<() => Promise<unknown>> = [];
after(async () => {
  for (const c of closers.reverse()) await c();
  rmSync(work, { recursive: true, force: true });
});

const oracle = new Oracle(FIXTURE_TOKENIZER_JSON);
const weightsBySize = new Map<FixtureSize, XlmrWeights>();
const weightsOf = (size: FixtureSize): XlmrWeights => {
  let w = weightsBySize.get(size);
  if (!w) weightsBySize.set(size, (w = randomWeights(shapeOf(size), FIXTURE_SEED)));
  return w;
};

/** The independent answer for `text` as the model reads it (prompt already in it). */
async function reference(size: FixtureSize, text: string, pooling: 'mean' | 'cls'): Promise<Float64Array> {
  const [{ ids }] = await oracle.encodeAll([text]);
  const w = weightsOf(size);
  const hidden = referenceForward(w, ids, 'int8');
  const H = w.shape.hidden;
  const v = new Float64Array(H);
  if (pooling === 'cls') v.set(hidden.subarray(0, H));
  else for (let t = 0; t < ids.length; t++) for (let i = 0; i < H; i++) v[i] += hidden[t * H + i] / ids.length;
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
}

async function serveFromHub(repo: string, size: FixtureSize, variant: FixtureVariant, extraArgs: string[] = []): Promise<{ s: ServeProcess; hub: StandInHub }> {
  const hub = await startStandInHub({ repos: [{ id: repo, folder: cachedFixture(size, 'int8', variant), lfs: ['tokenizer.json'] }] });
  closers.push(() => hub.close());
  const hfHome = mkdtempSync(join(work, 'hf-'));
  const s = await spawnServe(['--model', repo, ...extraArgs], { HF_HOME: hfHome, HF_ENDPOINT: hub.url, HF_TOKEN: '', HF_HUB_OFFLINE: '' });
  closers.push(async () => {
    s.child.kill('SIGTERM');
    await s.exited;
  });
  await s.waitFor('model ready', 300_000);
  return { s, hub };
}

/**
 * Element by element against the independent reference (exact int8 arithmetic in float64);
 * the service computes in float32, and quantizes activations per batch.
 */
function assertNear(got: ArrayLike<number>, want: ArrayLike<number>, what: string, tolerance = 2e-5): void {
  assert.equal(got.length, want.length, `${what}: length`);
  const d = maxAbsDiff(got, want);
  assert.ok(d <= tolerance, `${what}: max |diff| ${d} from the reference`);
}

const post = async (s: ServeProcess, path: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; json: unknown }> => {
  const res = await fetch(`${s.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  return { status: res.status, json: await res.json() };
};

type OpenAiAnswer = { data: Array<{ embedding: number[] }>; usage: { prompt_tokens: number } };
type Info = Record<string, unknown>;

// As the real repos are: sentence-transformers files with mean pooling and no prompts (the
// e5 prefixes are written only in the model cards, so the built-in table supplies them).
const REAL_E5_FILES: FixtureVariant = { name: 'no-prompts', rules: { prompts: null } };

test('--model intfloat/multilingual-e5-small: a BERT graph, 384 dimensions, e5 prefixes from the built-in table', { timeout: 600_000 }, async () => {
  const { s, hub } = await serveFromHub('intfloat/multilingual-e5-small', 'e5-small', REAL_E5_FILES);
  assert.ok(hub.requests.some((r) => r.path.endsWith('/1_Pooling/config.json')), 'the Pooling module\'s config was downloaded');
  const info = (await (await fetch(`${s.url}/info`)).json()) as Info;
  assert.equal(info.model_id, 'intfloat/multilingual-e5-small');
  assert.equal(info.dimensions, 384);
  assert.equal(info.max_input_tokens, 512);
  assert.equal(info.pooling, 'mean');
  assert.deepEqual(info.prompts, { query: 'query: ', passage: 'passage: ' });
  assert.match(String((info.rules_from as Info).prompts), /built-in/);

  const r = await post(s, '/v1/embeddings', { input: ['как дела?', 'passage: Москва — столица России.'] });
  assert.equal(r.status, 200, JSON.stringify(r.json));
  const data = (r.json as OpenAiAnswer).data;
  assert.equal(data[0].embedding.length, 384);
  const want = [await reference('e5-small', 'query: как дела?', 'mean'), await reference('e5-small', 'passage: Москва — столица России.', 'mean')];
  // Alone, each text is the reference's to float32 rounding; in one batch of two, int8
  // activations share a quantization scale, which moves each vector by up to a few 1e-3. (Not
  // from the embedding cache, which holds the vectors of the batch of two.)
  for (let i = 0; i < 2; i++) {
    const alone = (await post(s, '/v1/embeddings', { input: [['как дела?', 'passage: Москва — столица России.'][i]] }, { 'cache-control': 'no-store' })).json as OpenAiAnswer;
    assertNear(alone.data[0].embedding, want[i], `input ${i} alone`);
    assertNear(data[i].embedding, want[i], `input ${i} in a batch of two`, 5e-3);
    assert.ok(maxAbsDiff(data[i].embedding, want[1 - i]) > 5e-2, `input ${i} is not the other input's vector`);
  }
  const passage = (await post(s, '/embed', { inputs: 'Москва', prompt_name: 'passage' })).json as number[][];
  assertNear(passage[0], await reference('e5-small', 'passage: Москва', 'mean'), 'prompt_name passage');
  assert.equal((await post(s, '/v1/embeddings', { input: 'x', dimensions: 768 })).status, 400, 'only its own dimension');
  assert.equal((await post(s, '/v1/embeddings', { input: 'x', dimensions: 384 })).status, 200);
  const b64 = (await post(s, '/v1/embeddings', { input: 'x', encoding_format: 'base64' })).json as { data: Array<{ embedding: string }> };
  assert.equal(Buffer.from(b64.data[0].embedding, 'base64').length, 384 * 4);
  const bad = await post(s, '/v1/embeddings', { input: 'x', instruction: 'Find it' });
  assert.equal(bad.status, 400);
  assert.match(JSON.stringify(bad.json), /takes no instruction/);
});

test('a large-instruct-shaped model: the instruction before queries (request, --instruction, the card\'s default), nothing before documents', { timeout: 600_000 }, async () => {
  const { s } = await serveFromHub('intfloat/multilingual-e5-large-instruct', 'tiny', REAL_E5_FILES, ['--instruction', 'Given a question, retrieve answers']);
  const info = (await (await fetch(`${s.url}/info`)).json()) as Info;
  assert.equal(info.default_instruction, 'Given a question, retrieve answers');
  const q = 'сколько лет Москве?';
  const cases: Array<[unknown, string]> = [
    [{ input: q }, `Instruct: Given a question, retrieve answers\nQuery: ${q}`],
    [{ input: q, instruction: 'Retrieve history facts' }, `Instruct: Retrieve history facts\nQuery: ${q}`],
    [{ input: q, input_type: 'passage' }, q],
    [{ input: q, input_type: 'document', instruction: 'ignored for documents' }, q],
  ];
  for (const [body, read] of cases) {
    const r = await post(s, '/v1/embeddings', body);
    assert.equal(r.status, 200, JSON.stringify(r.json));
    assertNear((r.json as OpenAiAnswer).data[0].embedding, await reference('tiny', read, 'mean'), `${JSON.stringify(body)} read as ${JSON.stringify(read)}`);
  }
  const tei = (await post(s, '/embed', { inputs: q, prompt_name: 'query', instruction: 'Retrieve history facts' })).json as number[][];
  assertNear(tei[0], await reference('tiny', `Instruct: Retrieve history facts\nQuery: ${q}`, 'mean'), '/embed with an instruction');
});

test('a CLS-pooled model with 8192 positions and no prompts (bge-m3\'s rules): the first token\'s vector, long texts kept whole', { timeout: 600_000 }, async () => {
  const variant: FixtureVariant = { name: 'cls-8k', rules: { pooling: 'cls', maxSeqLength: 8192, prompts: null } };
  const { s } = await serveFromHub('ortos-test/cls-8k', 'tiny-8k', variant);
  const info = (await (await fetch(`${s.url}/info`)).json()) as Info;
  assert.equal(info.pooling, 'cls');
  assert.equal(info.max_input_tokens, 8192);
  assert.deepEqual(info.prompts, {});
  const text = 'Москва — столица России.';
  const r = await post(s, '/v1/embeddings', { input: text, input_type: 'query' });
  assert.equal(r.status, 200, JSON.stringify(r.json));
  assertNear((r.json as OpenAiAnswer).data[0].embedding, await reference('tiny-8k', text, 'cls'), 'the CLS reference (no prefix)');
  const mean = cosine((r.json as OpenAiAnswer).data[0].embedding, await reference('tiny-8k', text, 'mean'));
  assert.ok(mean < 0.9999, `and not the mean's (cosine ${mean})`);
  // As TEI (prepare_pre_prompt) and sentence-transformers: a prompt name the model cannot apply
  // is the request's error on every route that takes one; OpenAI's input_type stays lenient (above).
  for (const [path, body, param] of [
    ['/embed', { inputs: text, prompt_name: 'query' }, 'prompt_name'],
    ['/embed_all', { inputs: text, prompt_name: 'passage' }, 'prompt_name'],
    ['/similarity', { inputs: { source_sentence: text, sentences: ['x'] }, parameters: { prompt_name: 'query' } }, 'parameters.prompt_name'],
    ['/tokenize', { inputs: text, prompt_name: 'query' }, 'prompt_name'],
  ] as const) {
    const refused = await post(s, path, body);
    assert.equal(refused.status, 400, `${path}: ${JSON.stringify(refused.json)}`);
    const err = (refused.json as { error: { message: string; param: string } }).error;
    assert.match(err.message, /no prompts/, path);
    assert.equal(err.param, param, path);
  }
  // 1,200 tokens: over e5's 512, well within 8192; nothing is cut.
  const long = 'слово '.repeat(1100);
  const [{ ids }] = await oracle.encodeAll([long]);
  const lr = await post(s, '/v1/embeddings', { input: long });
  assert.equal(lr.status, 200);
  assert.equal((lr.json as OpenAiAnswer).usage.prompt_tokens, ids.length);
  assert.ok(ids.length > 1000);
});
