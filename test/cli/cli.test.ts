// The compiled CLI as a user runs it: a real process, real files.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { PROJECT_ROOT } from '../helpers/fixtures.js';
import { preparedFixture } from '../helpers/models.js';

const BIN = join(PROJECT_ROOT, 'dist', 'bin', 'main.js');

function run(args: string[], input?: string, env: NodeJS.ProcessEnv = {}): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { input, encoding: 'utf8', env: { ...process.env, ...env } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

test('embed prints one unit vector per text, from arguments or stdin lines', async () => {
  const { modelDir } = await preparedFixture('tiny', 'int8');
  const a = run(['embed', '--model-dir', modelDir, 'query: привет', 'мир']);
  assert.equal(a.code, 0, a.err);
  const lines = a.out.trim().split('\n');
  assert.equal(lines.length, 2);
  for (const line of lines) {
    const v = JSON.parse(line) as number[];
    assert.equal(v.length, 32);
    assert.ok(Math.abs(Math.hypot(...v) - 1) < 1e-5);
  }
  assert.match(a.err, /this model has random weights \(a generated test fixture\)/, 'a fixture says what it is');
  const b = run(['embed', '--input-type', 'query'], 'привет\n\nмир\n  \n', { MODEL_DIR: modelDir });
  assert.equal(b.code, 0, b.err);
  assert.deepEqual(b.out.trim().split('\n'), lines, 'the prefix is added once: "привет" and "query: привет" embed alike');
  assert.match(b.err, /skipped 2 empty lines of stdin/);
});

test('the CLI and the HTTP API are one door: the same texts give the same vectors, bit for bit', { timeout: 120_000 }, async () => {
  const { modelDir } = await preparedFixture('tiny', 'int8');
  const texts = ['query: привет', 'passage: длинный текст о погоде в Москве', 'hello world', 'x'];
  const cli = run(['embed', '--model-dir', modelDir, ...texts]);
  assert.equal(cli.code, 0, cli.err);
  const viaCli = cli.out.trim().split('\n').map((l) => JSON.parse(l) as number[]);
  const { spawnServe } = await import('../helpers/serve-process.js');
  const s = await spawnServe(['--model-dir', modelDir, '--threads', '1']);
  try {
    await s.waitFor('model ready', 60_000);
    const r = await fetch(`${s.url}/embed`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ inputs: texts, truncate: true }) });
    assert.equal(r.status, 200);
    assert.deepEqual(await r.json(), viaCli, 'one request of the same texts: the same batches, the same vectors');
  } finally {
    s.child.kill('SIGTERM');
    await s.exited;
  }
});

test('offline (no name resolves): embed fails within seconds, serve reports it on /health, both naming the ways in without the hub', { timeout: 60_000 }, async () => {
  const { mkdtempSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const home = mkdtempSync(join(tmpdir(), 'ortos-offline-'));
  const env = { HF_HOME: home, HF_ENDPOINT: '', HF_HUB_OFFLINE: '', NODE_OPTIONS: `--import ${join(PROJECT_ROOT, 'build', 'test', 'helpers', 'no-dns.js')}` };
  try {
    const t0 = performance.now();
    const r = run(['embed', 'query: привет'], undefined, env);
    assert.ok(performance.now() - t0 < 10_000, 'no retries through a name that does not resolve');
    assert.equal(r.code, 1);
    assert.match(r.err, /the name huggingface\.co does not resolve \(ENOTFOUND/);
    assert.match(r.err, /HF_HUB_OFFLINE=1 .*--model-dir DIR .*npm run -s fixture -- --size e5-base/);
    const { spawnServe } = await import('../helpers/serve-process.js');
    const s = await spawnServe([], env);
    try {
      await s.waitFor('model failed to load; /health reports it and requests get 503', 10_000);
      const h = (await (await fetch(`${s.url}/health`)).json()) as { status: string; reason: string };
      assert.equal(h.status, 'failed');
      assert.match(h.reason, /does not resolve.*npm run -s fixture/);
    } finally {
      s.child.kill('SIGTERM');
      await s.exited;
    }
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
});

test('verify: --dtype is listed once, and fp32 (the reference itself) is refused', () => {
  const help = run(['verify', '--help']).out;
  assert.equal(help.split('\n').filter((l) => /^\s+--dtype\b/.test(l)).length, 1);
  const r = run(['verify', '--dtype', 'fp32']);
  assert.equal(r.code, 2);
  assert.match(r.err, /fp32 is the reference, not a form to check/);
});

test('every command has --help, and mistakes exit 2 with a message', () => {
  for (const cmd of ['serve', 'prepare', 'embed', 'verify', 'cost']) {
    const r = run([cmd, '--help']);
    assert.equal(r.code, 0);
    assert.match(r.out, new RegExp(`usage: ortos-embed ${cmd}`));
    if (cmd !== 'cost') assert.match(r.out, /--model-dir/);
  }
  assert.equal(run([]).code, 2);
  const unknown = run(['frobnicate']);
  assert.equal(unknown.code, 2);
  assert.match(unknown.err, /unknown command "frobnicate"\n/, 'no guess when nothing is near');
  const typo = run(['serv']);
  assert.equal(typo.code, 2);
  assert.match(typo.err, /unknown command "serv" \(did you mean serve\?\)/);
  assert.match(run(['embedd']).err, /did you mean embed\?/);
  const badFlag = run(['embed', '--bogus']);
  assert.equal(badFlag.code, 2);
  assert.equal(badFlag.err.trim(), 'ortos-embed: embed: unknown option --bogus; see "ortos-embed embed --help"');
  assert.match(run(['serve', '--prot', '9']).err, /serve: unknown option --prot \(did you mean --port\?\); see "ortos-embed serve --help"/);
  assert.match(run(['prepare', '--model']).err, /prepare: --model needs a value; see "ortos-embed prepare --help"/);
  assert.match(run(['cost', 'extra']).err, /cost: unexpected argument "extra"/);
  const bare = run(['cost', '--idle', '5']);
  assert.equal(bare.code, 2, 'a duration without a unit is refused, not taken as seconds');
  assert.match(bare.err, /--idle must be a duration with a unit, like 500ms, 30s, 5m or 1h, got "5" \(seconds\? write 5s\)/);
});

test('embed: a prompt or an instruction the model does not take is exit 2, naming the model\'s prompts', async () => {
  const { modelDir } = await preparedFixture('tiny', 'int8');
  const badType = run(['embed', '--model-dir', modelDir, '--input-type', 'question', 'x']);
  assert.equal(badType.code, 2, badType.err);
  assert.match(badType.err, /--input-type: this model has no prompt "question" \(it has "query", "passage"\)/);
  const instruct = run(['embed', '--model-dir', modelDir, '--instruction', 'Find it', 'x']);
  assert.equal(instruct.code, 2, instruct.err);
  assert.match(instruct.err, /--instruction: this model takes no instruction/);
  const ok = run(['embed', '--model-dir', modelDir, '--input-type', 'document', 'x']);
  assert.equal(ok.code, 0, ok.err);
});

test('a model folder that does not exist is a bad option: one line, exit 2 at start, for serve as for embed', () => {
  for (const args of [['embed', '--model-dir', '/nonexistent/model', 'x'], ['serve', '--host', '127.0.0.1', '--model-dir', '/nonexistent/model']]) {
    const r = run(args);
    assert.equal(r.code, 2, `${args[0]}: ${r.err}`);
    assert.equal(r.err.trim(), 'ortos-embed: --model-dir /nonexistent/model does not exist');
  }
});

test('a hub cache folder given as --model-dir: the error points at its snapshot, or the cache used offline', async () => {
  const { mkdtempSync, mkdirSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const dir = join(mkdtempSync(join(tmpdir(), 'ortos-cache-')), 'models--intfloat--multilingual-e5-base');
  mkdirSync(join(dir, 'snapshots', 'abc123'), { recursive: true });
  try {
    const r = run(['embed', '--model-dir', dir, 'x']);
    assert.equal(r.code, 1);
    assert.match(r.err, new RegExp(`this is a hub cache folder: point --model-dir at ${join(dir, 'snapshots', 'abc123').replace(/[/.-]/g, '\\$&')}, or use --model intfloat/multilingual-e5-base with HF_HUB_OFFLINE=1`));
  } finally {
    rmSync(dirname(dir), { recursive: true, force: true });
  }
});

test('a prepared folder alone (no source model, offline) is enough to serve embeddings', async () => {
  const { cpSync, mkdtempSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { preparedDir } = await preparedFixture('tiny', 'int8');
  const dir = mkdtempSync(join(tmpdir(), 'ortos-alone-'));
  try {
    cpSync(preparedDir, join(dir, 'e5'), { recursive: true });
    const r = run(['embed', 'привет'], undefined, { PREPARED_DIR: join(dir, 'e5'), HF_HUB_OFFLINE: '1', HF_HOME: join(dir, 'empty-cache') });
    assert.equal(r.code, 0, r.err);
    assert.equal((JSON.parse(r.out.trim()) as number[]).length, 32);
    // Another form asked of a prepared folder is refused, not silently served as int8.
    const q4 = run(['embed', 'привет'], undefined, { PREPARED_DIR: join(dir, 'e5'), DTYPE: 'q4', HF_HUB_OFFLINE: '1', HF_HOME: join(dir, 'empty-cache') });
    assert.equal(q4.code, 1);
    assert.match(q4.err, /holds the int8 form, and --dtype \(DTYPE\) asks for q4: .*--build-arg DTYPE=q4/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('cost leads with the user\'s own profile, then the note\'s scenario and ours side by side', () => {
  const r = run(['cost']);
  assert.equal(r.code, 0);
  assert.match(r.out.split('\n')[0], /^Your profile \(200 req\/day in 10 bursts, .*\): \$\d+\.\d+ a month on Fly\.io/);
  assert.match(r.out.split('\n').find((l) => l.startsWith('| ') && !l.startsWith('| scenario')) ?? '', /^\| ortos-embed, your profile/);
  assert.match(r.out, /the note \(its own estimate\) .* \*\*\$0\.21\*\*/);
  assert.match(r.out, /ortos-embed, same usage/);
  assert.equal(run(['cost', '--machine', '64gb']).code, 2);
});

test('verify --dtype q4 measures q4 against int8 on the built-in multilingual sample', async () => {
  const { modelDir } = await preparedFixture('tiny', 'int8');
  const r = run(['verify', '--model-dir', modelDir, '--dtype', 'q4', '--threads', '1']);
  assert.equal(r.code, 0, r.err);
  const m = /q4 vs int8 on 20 multilingual texts: min cosine ([\d.]+), mean ([\d.]+)/.exec(r.out);
  assert.ok(m, r.out);
  const [min, mean] = [Number(m[1]), Number(m[2])];
  assert.ok(min > 0.9 && min <= mean && mean < 1, `min ${min}, mean ${mean}`);
  // Then each compact type against q4's own float vectors.
  assert.match(r.out, /compact vectors of q4 against its float vectors \(10 queries searching 106 passages; int8\/uint8 ranges from 192 calibration vectors\)/);
  const loss = Object.fromEntries([...r.out.matchAll(/^ {2}(\w+) +top-10 overlap ([\d.]+)%, mean cosine ([\d.]+)$/gm)].map((x) => [x[1], { overlap: Number(x[2]), cosine: Number(x[3]) }]));
  assert.deepEqual(Object.keys(loss), ['int8', 'uint8', 'binary', 'ubinary'], r.out);
  for (const t of ['int8', 'uint8']) assert.ok(loss[t].cosine > 0.99 && loss[t].overlap >= 50, `${t}: ${JSON.stringify(loss[t])}`);
  assert.equal(loss.binary.cosine, loss.ubinary.cosine, 'the same bits');
  assert.ok(loss.binary.cosine < loss.int8.cosine, 'one bit a dimension loses more than eight');
});

test('serve --dtype q4 answers over HTTP and /info says what it serves', async () => {
  const { spawnServe } = await import('../helpers/serve-process.js');
  const { modelDir } = await preparedFixture('tiny', 'int8');
  const s = await spawnServe(['--model-dir', modelDir, '--dtype', 'q4', '--threads', '1']);
  try {
    await s.waitFor('model ready', 60_000);
    const r = await fetch(`${s.url}/v1/embeddings`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ input: ['query: привет', 'query: hello'] }) });
    assert.equal(r.status, 200);
    const body = (await r.json()) as { data: Array<{ embedding: number[] }> };
    assert.equal(body.data.length, 2);
    assert.ok(Math.abs(Math.hypot(...body.data[0].embedding) - 1) < 1e-5);
    const info = (await (await fetch(`${s.url}/info`)).json()) as { dtype: string; model_id: string; random_weights?: boolean; quantization: { blockSize: number; accuracyLevel: number; from: string } };
    assert.equal(info.dtype, 'q4');
    // A generated model says what it is, in /info, in answers and in the log.
    assert.equal(info.model_id, 'ortos-fixture/xlmr-tiny-random');
    assert.equal(info.random_weights, true);
    assert.equal(((await (await fetch(`${s.url}/v1/embeddings`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"input":"x"}' })).json()) as { model: string }).model, 'ortos-fixture/xlmr-tiny-random');
    assert.ok(s.logs.some((l) => l.level === 40 && /random weights/.test(String(l.msg))));
    assert.deepEqual(info.quantization, { blockSize: 32, accuracyLevel: 4, from: 'onnx/model_qint8_avx512_vnni.onnx' });
  } finally {
    s.child.kill('SIGTERM');
    await s.exited;
  }
});

test('the fixture command prints the folder alone on stdout (timings on stderr), and can hold both exports', async () => {
  const { existsSync } = await import('node:fs');
  const r = spawnSync(process.execPath, [join(PROJECT_ROOT, 'build', 'test', 'fixture-models', 'generate.js'), '--size', 'tiny', '--dtype', 'both'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const dir = r.stdout.trim();
  assert.equal(r.stdout, `${dir}\n`, 'one line: the path');
  for (const f of ['onnx/model.onnx', 'onnx/model_qint8_avx512_vnni.onnx', 'config.json', 'tokenizer.json']) assert.ok(existsSync(join(dir, f)), f);
  assert.match(r.stderr, /random weights/);
  // verify runs offline on it (int8 against fp32 from the same weights).
  const v = run(['verify', '--model-dir', dir, '--threads', '1'], undefined, { HF_HUB_OFFLINE: '1' });
  assert.equal(v.code, 0, v.err);
  assert.match(v.out, /int8 vs fp32 on 20 multilingual texts: min cosine 0\.9\d+/);
  assert.match(v.out, /int8 path: /);
});

test('embed --cache-dir: a text embedded before comes from the cache, the same vector; cache shows and clears the store', { timeout: 120_000 }, async () => {
  const { modelDir } = await preparedFixture('tiny', 'int8');
  const { mkdtempSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const dir = mkdtempSync(join(tmpdir(), 'ortos-cache-'));
  try {
    const first = run(['embed', '--model-dir', modelDir, '--cache-dir', dir, 'привет', 'мир']);
    assert.equal(first.code, 0, first.err);
    assert.doesNotMatch(first.err, /from the cache/);
    const again = run(['embed', '--model-dir', modelDir, 'привет', 'новый текст'], undefined, { CACHE_DIR: dir });
    assert.equal(again.code, 0, again.err);
    assert.match(again.err, /1 of 2 inputs came from the cache/);
    assert.equal(again.out.split('\n')[0], first.out.split('\n')[0]);
    const shown = run(['cache', '--cache-dir', dir]);
    assert.equal(shown.code, 0, shown.err);
    assert.equal((JSON.parse(shown.out) as { entries: number }).entries, 3);
    const cleared = run(['cache', '--cache-dir', dir, '--clear']);
    assert.match(cleared.err, /removed 3 vectors/);
    assert.equal((JSON.parse(cleared.out) as { entries: number }).entries, 0);
    assert.doesNotMatch(run(['embed', '--model-dir', modelDir, '--cache-dir', dir, 'привет']).err, /from the cache/);
    const wrong = run(['cache', '--cache-dir', join(dir, 'nothing-here')]);
    assert.equal(wrong.code, 2);
    assert.match(wrong.err, /no embedding cache in .*nothing-here/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('prepare with a reranker prepares both and prints each folder on its own line; --rerank-preload alone is refused', async () => {
  const { modelDir } = await preparedFixture('tiny', 'int8');
  const reranker = (await preparedFixture('rerank-tiny', 'int8')).modelDir;
  const r = run(['prepare', '--model-dir', modelDir, '--rerank-model-dir', reranker]);
  assert.equal(r.code, 0, r.err);
  const lines = r.out.trim().split('\n');
  assert.equal(lines.length, 2);
  assert.ok(lines[0].startsWith(modelDir) && lines[1].startsWith(reranker), r.out);
  assert.ok(existsSync(join(lines[1], 'manifest.json')));
  const bad = run(['serve', '--host', '127.0.0.1', '--model-dir', modelDir, '--rerank-preload']);
  assert.equal(bad.code, 2);
  assert.match(bad.err, /--rerank-preload needs a reranker/);
  const both = run(['serve', '--host', '127.0.0.1', '--model-dir', modelDir, '--rerank-model', 'a/b', '--rerank-model-dir', reranker]);
  assert.equal(both.code, 2);
  assert.match(both.err, /name two rerankers: give one/);
});
