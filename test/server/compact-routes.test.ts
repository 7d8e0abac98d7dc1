// Compact vectors over HTTP on every embedding route: /v1/embeddings and /embed answer each
// output_dtype as sentence-transformers' quantize_embeddings (numpy, with the ranges in the
// manifest) makes it from the same request's float answer; base64 decodes to the JSON's bytes;
// /embed_all packs each token vector's signs; answers from the cache are the same bytes; the
// ranges are those of the calibration sample's vectors; bad requests get a 400 naming the field.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Pipeline } from '../../src/pipeline/pipeline.js';
import { CALIBRATION_TEXTS } from '../../src/prepare/calibration-texts.js';
import type { App } from '../../src/server/app.js';
import { fromBase64, type OutputDtype } from '../../src/vectors/compact.js';
import { embedTexts } from '../helpers/door.js';
import { startFixtureApp } from '../helpers/fixture-app.js';
import { preparedFixture } from '../helpers/models.js';
import { needNumpy, runPython } from '../helpers/numpy.js';

let preparedDir: string;
let reference: Pipeline;
let app: App;

before(async () => {
  preparedDir = (await preparedFixture('tiny', 'int8')).preparedDir;
  reference = await Pipeline.load(preparedDir, { threads: 1, batchTokens: 256 });
  app = await startFixtureApp(preparedDir, { 'cache-memory-mb': '16' });
});
after(async () => {
  await app.shutdown('test done');
  await app.service.close();
  await reference.close();
});

async function post(path: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: unknown; headers: Headers }> {
  const res = await fetch(app.url + path, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  return { status: res.status, body: await res.json(), headers: res.headers };
}

const TEXTS = ['Как вернуть товар?', 'passage: Доставка занимает от двух до семи дней.', 'wie spät ist es', '東京の天気'];
const COMPACT: OutputDtype[] = ['int8', 'uint8', 'binary', 'ubinary'];

// sentence-transformers' quantize_embeddings (quantization.py), given `ranges` as serve holds
// them, on the vectors clipped to those ranges first: numpy's cast of a value outside them is
// undefined (it wraps on x86), where serve clips. How many values were outside is reported.
const QUANTIZE = `
import json, sys
import numpy as np
job = json.load(sys.stdin)
raw = np.array(job["float"], dtype=np.float32)
ranges = np.array([job["min"], job["max"]], dtype=np.float32)
emb = np.clip(raw, ranges[0, :], ranges[1, :])
outside = int(np.sum(emb != raw))
starts = ranges[0, :]
steps = (ranges[1, :] - ranges[0, :]) / 255
out = {
  "uint8": ((emb - starts) / steps).astype(np.uint8),
  "int8": ((emb - starts) / steps - 128).astype(np.int8),
  "binary": (np.packbits(emb > 0).reshape(emb.shape[0], -1) - 128).astype(np.int8),
  "ubinary": np.packbits(emb > 0).reshape(emb.shape[0], -1),
}
print(json.dumps({**{k: v.astype(np.int64).tolist() for k, v in out.items()}, "outside": outside}))
`;

test('the manifest\'s ranges are the per-dimension min and max of the calibration sample under each prompt', { timeout: 120_000 }, async () => {
  const cal = reference.manifest.calibration;
  assert.ok(cal !== undefined, 'prepare calibrated the model');
  const prompts = Object.keys(reference.rules.prompts);
  assert.ok(prompts.length >= 2, 'the fixture has e5\'s prompts');
  const all: Float32Array[] = [];
  for (const prompt of prompts) all.push(...(await embedTexts(reference, CALIBRATION_TEXTS, { prompt, normalize: true, truncate: true })).vectors);
  assert.equal(cal.vectors, all.length);
  for (let d = 0; d < reference.dimensions; d++) {
    assert.equal(cal.min[d], Math.min(...all.map((v) => v[d])), `min of dimension ${d}`);
    assert.equal(cal.max[d], Math.max(...all.map((v) => v[d])), `max of dimension ${d}`);
  }
});

test('/v1/embeddings and /embed: each output_dtype is quantize_embeddings of the float answer; base64 is its bytes; the cache gives the same', { timeout: 120_000 }, async (t) => {
  if (!needNumpy(t)) return;
  const float = (await post('/v1/embeddings', { input: TEXTS })).body as { data: Array<{ embedding: number[] }> };
  const cal = reference.manifest.calibration!;
  const want = runPython(QUANTIZE, { float: float.data.map((d) => d.embedding), min: cal.min, max: cal.max }) as Record<string, number[][]> & { outside: number };
  // Texts the calibration did not see fall outside its ranges here and there: clipping is exercised.
  assert.ok(want.outside > 0 && want.outside < TEXTS.length * reference.dimensions * 0.1, `${want.outside} values outside the ranges`);
  for (const dtype of COMPACT) {
    for (const pass of ['computed', 'cached']) {
      const json = await post('/v1/embeddings', { input: TEXTS, output_dtype: dtype });
      assert.equal(json.status, 200, JSON.stringify(json.body));
      assert.deepEqual((json.body as { data: Array<{ embedding: number[] }> }).data.map((d) => d.embedding), want[dtype], `${dtype} (${pass}): /v1/embeddings`);
      if (pass === 'cached') assert.equal(json.headers.get('x-cached-inputs'), String(TEXTS.length));
      const b64 = await post('/v1/embeddings', { input: TEXTS, output_dtype: dtype, encoding_format: 'base64' });
      assert.deepEqual((b64.body as { data: Array<{ embedding: string }> }).data.map((d) => Array.from(fromBase64(d.embedding, dtype))), want[dtype], `${dtype} (${pass}): base64`);
      const tei = await post('/embed', { inputs: TEXTS, output_dtype: dtype });
      assert.deepEqual(tei.body, want[dtype], `${dtype} (${pass}): /embed`);
    }
    assert.equal(want[dtype][0].length, dtype.endsWith('binary') ? reference.dimensions / 8 : reference.dimensions);
  }
  // "float" is the default, said or not.
  const said = (await post('/v1/embeddings', { input: TEXTS, output_dtype: 'float' })).body as { data: Array<{ embedding: number[] }> };
  assert.deepEqual(said.data, float.data);
});

test('/embed_all: binary and ubinary pack each token vector\'s signs', { timeout: 60_000 }, async () => {
  const float = (await post('/embed_all', { inputs: TEXTS.slice(0, 2) })).body as number[][][];
  for (const dtype of ['binary', 'ubinary'] as const) {
    const got = (await post('/embed_all', { inputs: TEXTS.slice(0, 2), output_dtype: dtype })).body as number[][][];
    assert.deepEqual(got.map((tokens) => tokens.length), float.map((tokens) => tokens.length));
    got.forEach((tokens, i) => tokens.forEach((bytes, k) => {
      const signs = float[i][k];
      const packed = Array.from({ length: signs.length / 8 }, (_, b) => signs.slice(b * 8, b * 8 + 8).reduce((acc, x) => (acc << 1) | (x > 0 ? 1 : 0), 0));
      assert.deepEqual(bytes, dtype === 'ubinary' ? packed : packed.map((x) => x - 128), `${dtype}: input ${i}, token ${k}`);
    }));
  }
});

test('bad output_dtype requests: 400 naming the field, with what is accepted', { timeout: 60_000 }, async () => {
  const cases: Array<[string, unknown, string, RegExp]> = [
    ['/v1/embeddings', { input: 'x', output_dtype: 'int4' }, 'output_dtype', /must be one of "float", "int8", "uint8", "binary", "ubinary"/],
    ['/embed', { inputs: 'x', output_dtype: 8 }, 'output_dtype', /must be one of/],
    ['/embed', { inputs: 'x', output_dtype: 'int8', normalize: false }, 'normalize', /normalized vectors/],
    ['/embed_all', { inputs: 'x', output_dtype: 'uint8' }, 'output_dtype', /calibrated on sentence vectors/],
  ];
  for (const [path, body, param, message] of cases) {
    const r = await post(path, body);
    assert.equal(r.status, 400, `${path} ${JSON.stringify(body)}: ${JSON.stringify(r.body)}`);
    const e = (r.body as { error: { param: string; message: string } }).error;
    assert.equal(e.param, param, JSON.stringify(e));
    assert.match(e.message, message);
  }
  // binary needs no normalization: raw vectors' signs.
  assert.equal((await post('/embed', { inputs: 'x', output_dtype: 'binary', normalize: false })).status, 200);
});
