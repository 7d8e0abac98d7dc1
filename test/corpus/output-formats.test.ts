// `embed --output` in each format and type, read back by independent readers: numpy's np.load
// for .npy (with its ids file), DuckDB's read_parquet for Parquet; both equal the JSONL output
// of the same job; JSONL's compact vectors are the float vectors through the model's calibrated
// quantizer (itself checked against sentence-transformers in test/vectors).

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { readManifest } from '../../src/model/manifest.js';
import { compactVector, Quantizer, type OutputDtype } from '../../src/vectors/compact.js';
import { PROJECT_ROOT } from '../helpers/fixtures.js';
import { preparedFixture } from '../helpers/models.js';
import { needNumpy, runPython } from '../helpers/numpy.js';
import { BIN } from '../helpers/serve-process.js';

let modelDir: string;
let quantizer: Quantizer;
const work = mkdtempSync(join(tmpdir(), 'ortos-formats-'));
before(async () => {
  const f = await preparedFixture('tiny', 'fp32');
  modelDir = f.modelDir;
  quantizer = new Quantizer(readManifest(f.preparedDir)!.calibration!);
});
after(() => rmSync(work, { recursive: true, force: true }));

const input = join(work, 'in.jsonl');
writeFileSync(input, Array.from({ length: 57 }, (_, i) => JSON.stringify({ key: i % 3 === 0 ? `doc-${i}` : `д${i}`, text: `строка ${i}: ${'word '.repeat(i % 7)}` })).join('\n') + '\n');

function embed(output: string, dtype: OutputDtype, idField = true): void {
  const r = spawnSync(process.execPath, [BIN, 'embed', '--model-dir', modelDir, '--dtype', 'fp32', '--input', input, '--output', output, '--input-type', 'passage', '--output-dtype', dtype, '--batch-rows', '10', ...(idField ? ['--id-field', 'key'] : [])], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
}

function jsonl(path: string): Array<{ id: string | number; embedding: number[] }> {
  return readFileSync(path, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { id: string | number; embedding: number[] });
}

const NP_TYPE: Record<OutputDtype, string> = { float: 'float32', int8: 'int8', uint8: 'uint8', binary: 'int8', ubinary: 'uint8' };
const DUCK_TYPE: Record<OutputDtype, string> = { float: 'FLOAT[]', int8: 'TINYINT[]', uint8: 'UTINYINT[]', binary: 'TINYINT[]', ubinary: 'UTINYINT[]' };

test('JSONL: each compact type is the float vectors through the calibrated quantizer', { timeout: 120_000 }, () => {
  embed(join(work, 'float.jsonl'), 'float');
  const float = jsonl(join(work, 'float.jsonl'));
  for (const dtype of ['int8', 'uint8', 'binary', 'ubinary'] as const) {
    embed(join(work, `${dtype}.jsonl`), dtype);
    const rows = jsonl(join(work, `${dtype}.jsonl`));
    assert.deepEqual(rows.map((r) => r.id), float.map((r) => r.id));
    assert.deepEqual(rows.map((r) => r.embedding), float.map((r) => Array.from(compactVector(Float32Array.from(r.embedding), dtype, quantizer))), dtype);
  }
});

test('.npy: numpy loads a (rows, dims) array of the type, equal to the JSONL output; the ids beside it', { timeout: 120_000 }, (t) => {
  if (!needNumpy(t)) return;
  for (const dtype of ['float', 'int8', 'uint8', 'binary', 'ubinary'] as const) {
    const out = join(work, `${dtype}.npy`);
    embed(out, dtype);
    const want = jsonl(join(work, `${dtype}.jsonl`));
    const got = runPython('import json, sys\nimport numpy as np\na = np.load(sys.argv[1] if len(sys.argv) > 1 else json.load(sys.stdin)["path"])\nprint(json.dumps({"dtype": str(a.dtype), "shape": list(a.shape), "rows": a.astype(np.float64).tolist()}))', { path: out }) as { dtype: string; shape: number[]; rows: number[][] };
    assert.equal(got.dtype, NP_TYPE[dtype], dtype);
    assert.deepEqual(got.shape, [want.length, want[0].embedding.length], dtype);
    assert.deepEqual(got.rows, want.map((r) => r.embedding), `${dtype}: every value`);
    const ids = readFileSync(join(work, `${dtype}.ids.jsonl`), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as string);
    assert.deepEqual(ids, want.map((r) => r.id), `${dtype}: ids`);
  }
});

test('Parquet: DuckDB reads id and embedding (a list of the type), equal to the JSONL output; line numbers as BIGINT ids', { timeout: 120_000 }, async () => {
  const load = createRequire(join(PROJECT_ROOT, 'test', 'clients', 'package.json'));
  const { DuckDBInstance } = load('@duckdb/node-api') as { DuckDBInstance: { create(path: string): Promise<{ connect(): Promise<{ runAndReadAll(sql: string): Promise<{ getRowObjectsJson(): Array<Record<string, unknown>> }>; closeSync(): void }> }> } };
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  try {
    for (const dtype of ['float', 'int8', 'uint8', 'binary', 'ubinary'] as const) {
      const out = join(work, `${dtype}.parquet`);
      embed(out, dtype);
      const want = jsonl(join(work, `${dtype}.jsonl`));
      const rows = (await c.runAndReadAll(`SELECT id, embedding, typeof(id) AS it, typeof(embedding) AS et FROM read_parquet('${out}')`)).getRowObjectsJson();
      assert.equal(rows.length, want.length, dtype);
      assert.equal(rows[0].et, DUCK_TYPE[dtype], dtype);
      assert.equal(rows[0].it, 'VARCHAR', dtype);
      assert.deepEqual(rows.map((r) => r.id), want.map((r) => r.id), `${dtype}: ids in input order`);
      assert.deepEqual(rows.map((r) => (r.embedding as Array<number | string>).map(Number)), want.map((r) => r.embedding), `${dtype}: every value`);
    }
    const lines = join(work, 'lines.parquet');
    embed(lines, 'float', false);
    const rows = (await c.runAndReadAll(`SELECT id, typeof(id) AS it FROM read_parquet('${lines}')`)).getRowObjectsJson();
    assert.equal(rows[0].it, 'BIGINT');
    assert.deepEqual(rows.map((r) => Number(r.id)), Array.from({ length: 57 }, (_, i) => i + 1));
  } finally {
    c.closeSync();
  }
});
