import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { cachedFixture } from '../fixture-models/generate.js';
import { resolveModelDir } from '../../src/model/layout.js';
import { PREPARED_FILES, readManifest } from '../../src/model/manifest.js';
import { defaultPreparedDir, prepareModel } from '../../src/prepare/prepare.js';
import { embedTexts } from '../helpers/door.js';

const work = mkdtempSync(join(tmpdir(), 'ortos-prep-'));
after(() => rmSync(work, { recursive: true, force: true }));

test('prepare writes the compiled tokenizer, the optimized graph with external weights and a manifest; again it reuses them', async () => {
  const dir = join(work, 'model');
  cpSync(cachedFixture('tiny', 'int8'), dir, { recursive: true, filter: (src) => !src.includes('ortos-prepared') });
  const files = resolveModelDir(dir);
  assert.equal(files.dtype, 'int8');
  const target = defaultPreparedDir(dir, 'int8');
  const lines: string[] = [];
  const first = await prepareModel(files, target, { repo: 'x/y' }, (m) => lines.push(m));
  assert.equal(first.reused, false);
  for (const f of Object.values(PREPARED_FILES)) assert.ok(existsSync(join(target, f)), f);
  const m = readManifest(target);
  assert.equal(m?.dtype, 'int8');
  assert.deepEqual(m?.io.inputs, ['input_ids', 'attention_mask', 'inputs_embeds']);
  assert.equal(m?.embeddings?.table.rows, 250002, 'the word-embedding table is read row by row');
  assert.ok(lines.some((l) => /tokenizer: 250002 pieces/.test(l)));

  const second = await prepareModel(files, target, {}, () => {});
  assert.equal(second.reused, true);

  // A changed source makes it stale; the new form replaces the old one atomically.
  const later = new Date(Date.now() + 5000);
  utimesSync(join(dir, 'tokenizer.json'), later, later);
  const third = await prepareModel(files, target, {}, () => {});
  assert.equal(third.reused, false);
  assert.match(third.reason ?? '', /tokenizer.json changed/);
  assert.deepEqual(readdirSync(dir).filter((n) => n.includes('.tmp')), []);
});

test('a prepared folder missing a file is prepared again rather than used', async () => {
  const dir = join(work, 'model');
  const target = defaultPreparedDir(dir, 'int8');
  rmSync(join(target, PREPARED_FILES.data));
  const again = await prepareModel(resolveModelDir(dir), target, {}, () => {});
  assert.equal(again.reused, false);
  assert.match(again.reason ?? '', /model.onnx.data is missing/);
});

test('a folder without the hub layout is refused, naming what is missing', () => {
  const empty = join(work, 'empty');
  cpSync(join(work, 'model', 'config.json'), join(empty, 'config.json'));
  assert.throws(() => resolveModelDir(empty), /lacks tokenizer.json and tokenizer_config.json and one of onnx\/model_qint8_avx512_vnni.onnx/);
  assert.throws(() => resolveModelDir(join(work, 'nope')), /does not exist/);
});

test('--prepack saves packed weights for this CPU; they give the same vectors, and another CPU falls back to the portable graph', async () => {
  const { Pipeline } = await import('../../src/pipeline/pipeline.js');
  const { cpuFingerprint } = await import('../../src/cpu.js');
  const { writeFileSync } = await import('node:fs');
  const dir = join(work, 'model');
  const target = defaultPreparedDir(dir, 'int8');
  const lines: string[] = [];
  const r = await prepareModel(resolveModelDir(dir), target, {}, (m) => lines.push(m), { prepack: true });
  assert.equal(r.reused, false);
  assert.match(r.reason ?? '', /no packed weights for this CPU yet/);
  const m = readManifest(target);
  assert.equal(m?.prepacked?.cpu, cpuFingerprint());
  assert.ok(existsSync(join(target, m!.prepacked!.model)));
  const texts = ['привет', 'a somewhat longer text to embed'];
  const opts = { prompt: 'query', normalize: true, truncate: true };
  const packed = await Pipeline.load(target, { threads: 1, batchTokens: 256 });
  assert.equal(packed.prepacked, true);
  const a = (await embedTexts(packed, texts, opts)).vectors;
  await packed.close();
  writeFileSync(join(target, 'manifest.json'), JSON.stringify({ ...m, prepacked: { ...m!.prepacked, cpu: 'some other CPU' } }));
  const portable = await Pipeline.load(target, { threads: 1, batchTokens: 256 });
  assert.equal(portable.prepacked, false);
  const b = (await embedTexts(portable, texts, opts)).vectors;
  await portable.close();
  for (let i = 0; i < texts.length; i++) assert.ok(a[i].every((x, k) => Math.abs(x - b[i][k]) < 1e-6));
});

test('q4: made from the int8 export with 4-bit MatMuls, recorded in the manifest, close to int8, remade when its parameters change', async () => {
  const { Pipeline } = await import('../../src/pipeline/pipeline.js');
  const { fields, readNode } = await import('../../src/onnx/reader.js');
  const { readFileSync } = await import('node:fs');
  const dir = join(work, 'model-q4');
  cpSync(cachedFixture('tiny', 'int8'), dir, { recursive: true, filter: (src) => !src.includes('ortos-prepared') });
  const files = resolveModelDir(dir, 'q4');
  assert.equal(files.dtype, 'q4');
  assert.equal(files.onnxName, 'onnx/model_qint8_avx512_vnni.onnx');
  const target = defaultPreparedDir(dir, 'q4');
  const lines: string[] = [];
  await prepareModel(files, target, {}, (m) => lines.push(m));
  const m = readManifest(target);
  assert.equal(m?.dtype, 'q4');
  assert.deepEqual(m?.quantization, { blockSize: 32, accuracyLevel: 4, from: 'onnx/model_qint8_avx512_vnni.onnx' });
  assert.ok(lines.some((l) => /q4: \d+ MatMuls of onnx\/model_qint8_avx512_vnni.onnx to 4-bit blocks of 32/.test(l)), lines.join('\n'));
  assert.deepEqual(readdirSync(target).filter((n) => n.includes('q4-source')), [], 'the intermediate graph is not left behind');
  const graph = [...fields(readFileSync(join(target, PREPARED_FILES.model)))].find((f) => f.field === 7)!;
  const opTypes = [...fields(graph.bytes)].filter((f) => f.field === 1).map((f) => readNode(f).op);
  assert.ok(opTypes.includes('MatMulNBits'));
  assert.ok(!opTypes.includes('MatMulInteger'), 'no weight MatMul is left in int8');

  const int8Dir = defaultPreparedDir(dir, 'int8');
  await prepareModel(resolveModelDir(dir, 'int8'), int8Dir, {}, () => {});
  const texts = ['query: сколько стоит доставка', 'passage: Le chat dort sur le canapé.', 'query: 如何在家里种植西红柿'];
  const vectors: Float32Array[][] = [];
  for (const d of [target, int8Dir]) {
    const p = await Pipeline.load(d, { threads: 1, batchTokens: 256 });
    vectors.push((await embedTexts(p, texts, { prompt: 'query', normalize: true, truncate: true })).vectors);
    await p.close();
  }
  for (let i = 0; i < texts.length; i++) {
    const cos: number = vectors[0][i].reduce((s, x, j) => s + x * vectors[1][i][j], 0);
    const diff = Math.max(...vectors[0][i].map((x, j) => Math.abs(x - vectors[1][i][j])));
    // Two layers of 4-bit weights move the tiny fixture's vectors little (measured: cosine
    // 0.999999, max |diff| ~1e-4), but they do move them.
    assert.ok(cos > 0.999 && diff > 1e-5, `q4 vs int8: cosine ${cos}, max |diff| ${diff}: close, and not the same vectors`);
  }

  assert.equal((await prepareModel(files, target, {}, () => {})).reused, true);
  const other = await prepareModel(files, target, {}, () => {}, { q4: { blockSize: 64, accuracyLevel: 4 } });
  assert.equal(other.reused, false);
  assert.match(other.reason ?? '', /other 4-bit parameters/);
  // An explicit prepared folder holding another dtype is not taken for this one.
  const wrong = await prepareModel(resolveModelDir(dir, 'int8'), target, {}, () => {});
  assert.match(wrong.reason ?? '', /prepared as q4, int8 asked for/);
});

test('a graph whose embedding lookup is not recognised keeps its table, says why, and serves the same vectors', async () => {
  const { Pipeline } = await import('../../src/pipeline/pipeline.js');
  const { writeFixtureModel } = await import('../fixture-models/generate.js');
  const dir = join(work, 'unusual-lookup');
  writeFixtureModel(dir, 'tiny', 'int8', undefined, { unusualLookup: true });
  const target = defaultPreparedDir(dir, 'int8');
  const lines: string[] = [];
  await prepareModel(resolveModelDir(dir), target, {}, (m) => lines.push(m));
  const m = readManifest(target);
  assert.equal(m?.embeddings, undefined);
  assert.equal(m?.embeddingsKept, 'no Gather of input_ids found');
  assert.ok(lines.some((l) => /the table stays in the graph \(no Gather of input_ids found\)/.test(l)), lines.join('\n'));
  const usual = (await import('../helpers/models.js')).preparedFixture;
  const texts = ['query: сколько стоит доставка', 'passage: Le chat dort sur le canapé.'];
  const vectors: Float32Array[][] = [];
  for (const d of [target, (await usual('tiny', 'int8')).preparedDir]) {
    const p = await Pipeline.load(d, { threads: 1, batchTokens: 256 });
    vectors.push((await embedTexts(p, texts, { prompt: 'query', normalize: true, truncate: true })).vectors);
    await p.close();
  }
  for (let i = 0; i < texts.length; i++) assert.ok(vectors[0][i].every((x, k) => Math.abs(x - vectors[1][i][k]) < 1e-6), 'the same vectors either way');
});
