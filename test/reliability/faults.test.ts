// Machines that sleep and wake get killed at odd moments, and disks hold damaged files.
// Each fault ends in a clear error or a recovery, never in a corrupt file being used.

import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { cachedFixture } from '../fixture-models/generate.js';
import { repoFolder } from '../../src/model/hub-cache.js';
import { PREPARED_FILES } from '../../src/model/manifest.js';
import { defaultPreparedDir } from '../../src/prepare/prepare.js';
import { preparedFixture } from '../helpers/models.js';
import { BIN, spawnServe } from '../helpers/serve-process.js';
import { startStandInHub } from '../helpers/stand-in-hub.js';

const work = mkdtempSync(join(tmpdir(), 'ortos-faults-'));
after(() => rmSync(work, { recursive: true, force: true }));

function copyModel(name: string): string {
  const dir = join(work, name);
  cpSync(cachedFixture('tiny', 'int8'), dir, { recursive: true, filter: (src) => !src.includes('ortos-prepared') });
  return dir;
}

const ONNX = join('onnx', 'model_qint8_avx512_vnni.onnx');

function runAsync(args: string[]): Promise<{ status: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (status) => resolve({ status, stderr }));
  });
}

async function failsWith(modelDir: string, reason: RegExp): Promise<void> {
  const s = await spawnServe(['--model-dir', modelDir]);
  try {
    await s.waitFor('model failed to load; /health reports it and requests get 503');
    const h = await fetch(`${s.url}/health`);
    assert.equal(h.status, 503);
    const body = (await h.json()) as { status: string; reason: string };
    assert.equal(body.status, 'failed');
    assert.match(body.reason, reason);
    const r = await fetch(`${s.url}/v1/embeddings`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"input":"x"}' });
    assert.equal(r.status, 503);
    assert.equal(s.child.exitCode, null, 'the process stays up to report the failure');
  } finally {
    s.child.kill('SIGTERM');
    assert.equal(await s.exited, 0);
  }
}

test('a truncated model file: clear failure on /health, requests 503, process up, exit 0 on SIGTERM', async () => {
  const dir = copyModel('truncated');
  truncateSync(join(dir, ONNX), 1_000_000);
  await failsWith(dir, /onnx|protobuf|load|model/i);
});

test('a model file of garbage bytes fails the same way', async () => {
  const dir = copyModel('garbage');
  writeFileSync(join(dir, ONNX), Buffer.alloc(2_000_000, 0x5a));
  await failsWith(dir, /onnx|protobuf|load|model/i);
});

test('a tokenizer.json of another kind is refused by name', async () => {
  const dir = copyModel('bpe');
  const tok = JSON.parse(readFileSync(join(dir, 'tokenizer.json'), 'utf8')) as { model: Record<string, unknown> };
  writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify({ ...tok, model: { type: 'BPE', vocab: {}, merges: [] } }));
  await failsWith(dir, /unsupported tokenizer.json: model type "BPE"/);
});

test('a damaged prepared file is noticed and the model prepared again, not loaded', async () => {
  const dir = copyModel('damaged-prepared');
  const prepared = defaultPreparedDir(dir, 'int8');
  assert.equal(spawnSync(process.execPath, [BIN, 'prepare', '--model-dir', dir]).status, 0);
  truncateSync(join(prepared, PREPARED_FILES.data), 1000);
  const s = await spawnServe(['--model-dir', dir]);
  try {
    await s.waitFor('model ready');
    assert.ok(s.logs.some((l) => /model.onnx.data is 1000 bytes/.test(String(l.msg))), 'says why it prepares again');
    const r = await fetch(`${s.url}/v1/embeddings`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"input":"x"}' });
    assert.equal(r.status, 200);
  } finally {
    s.child.kill('SIGTERM');
    await s.exited;
  }
});

test('kill -9 during prepare: the next start removes the leftovers, prepares and serves', async () => {
  const dir = copyModel('killed-prepare');
  // tokenizer.json as a named pipe: prepare optimizes the graph, then blocks reading it, so
  // the kill lands mid-prepare on any machine. The real file goes back for the next start.
  const tokenizer = readFileSync(join(dir, 'tokenizer.json'));
  rmSync(join(dir, 'tokenizer.json'));
  execFileSync('mkfifo', [join(dir, 'tokenizer.json')]);
  const child = spawn(process.execPath, [BIN, 'prepare', '--model-dir', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  await new Promise<void>((resolve) => child.stderr.on('data', (d: Buffer) => {
    err += d.toString();
    if (/graph: .* optimized/.test(err)) resolve();
  }));
  child.kill('SIGKILL');
  await new Promise((r) => child.on('exit', r));
  rmSync(join(dir, 'tokenizer.json'));
  writeFileSync(join(dir, 'tokenizer.json'), tokenizer);
  assert.ok(readdirSync(dir).some((n) => n.includes('.tmp-')), 'a work folder was left behind');
  assert.equal(existsSync(defaultPreparedDir(dir, 'int8')), false, 'nothing half-prepared in place');
  const s = await spawnServe(['--model-dir', dir]);
  try {
    await s.waitFor('model ready');
    assert.deepEqual(readdirSync(dir).filter((n) => n.includes('.tmp-')), []);
    const r = await fetch(`${s.url}/v1/embeddings`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"input":"x"}' });
    assert.equal(r.status, 200);
  } finally {
    s.child.kill('SIGTERM');
    await s.exited;
  }
});

test('kill -9 during a download: the next run resumes it and ends with a verified cache', async () => {
  const repo = 'ortos/killed-download';
  const hub = await startStandInHub({ repos: [{ id: repo, folder: cachedFixture('tiny', 'int8'), lfs: ['tokenizer.json'] }] });
  const home = join(work, 'hf-killed');
  try {
    // The CDN sends 3 MB of the first LFS file and then nothing: the download is in progress
    // for as long as the test wants (the stall timeout is set far beyond it).
    hub.faults.stallAfter = 3_000_000;
    const args = [BIN, 'prepare', '--model', repo, '--hf-endpoint', hub.url, '--hf-home', home];
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'ignore'], env: { ...process.env, HF_HUB_DOWNLOAD_TIMEOUT: '600' } });
    const blobs = join(repoFolder(join(home, 'hub'), repo), 'blobs');
    const partialSize = (): number => {
      const name = existsSync(blobs) ? readdirSync(blobs).find((b) => b.endsWith('.incomplete')) : undefined;
      return name ? statSync(join(blobs, name)).size : 0;
    };
    while (partialSize() < 3_000_000) await new Promise((r) => setTimeout(r, 10));
    child.kill('SIGKILL');
    await new Promise((r) => child.on('exit', r));
    hub.requests.length = 0;
    // Not spawnSync: the stand-in hub runs in this process and must keep answering.
    const again = await runAsync(args);
    assert.equal(again.status, 0, again.stderr);
    assert.match(again.stderr, /resuming tokenizer.json at 2.9 of/);
    assert.ok(hub.requests.some((r) => r.server === 'cdn' && r.range === 'bytes=3000000-'), 'a Range request resumed the file');
    assert.deepEqual(readdirSync(blobs).filter((b) => b.endsWith('.incomplete')), []);
  } finally {
    await hub.close();
  }
});

test('SIGTERM while the model loads (here: downloads): clean exit 0, and it was loading', async () => {
  const repo = 'ortos/term-during-load';
  const hub = await startStandInHub({ repos: [{ id: repo, folder: cachedFixture('tiny', 'int8'), lfs: ['tokenizer.json'] }] });
  try {
    hub.faults.stallAfter = 1_000_000;
    const s = await spawnServe(['--model', repo], { HF_ENDPOINT: hub.url, HF_HOME: join(work, 'hf-term'), HF_HUB_DOWNLOAD_TIMEOUT: '600' });
    while (!hub.requests.some((r) => r.server === 'cdn')) await new Promise((r) => setTimeout(r, 10));
    s.child.kill('SIGTERM');
    assert.equal(await s.exited, 0);
    const msgs = s.logs.map((l) => String(l.msg));
    assert.ok(msgs.includes('loading model') && msgs.includes('shutting down'));
    assert.ok(!msgs.includes('model ready'), 'the signal came while the model was loading');
  } finally {
    await hub.close();
  }
});

test('the inference call throwing: a 500 with the request id, and the service keeps serving', async () => {
  const { Pipeline } = await import('../../src/pipeline/pipeline.js');
  const { startApp } = await import('../../src/server/app.js');
  const { serveConfig } = await import('../../src/settings/serve.js');
  const { createLogger } = await import('../../src/server/logger.js');
  const { preparedDir } = await preparedFixture('tiny', 'int8');
  const lines: string[] = [];
  let failNext = true;
  const app = await startApp({
    cfg: serveConfig({ host: '127.0.0.1', port: '0' }, {}),
    batchTokens: 256,
    log: createLogger('info', (l) => lines.push(l)),
    load: async () => {
      const p = await Pipeline.load(preparedDir, { threads: 1, batchTokens: 256 });
      const run = p.run.bind(p);
      p.run = async (ids, tokens) => {
        if (failNext) {
          failNext = false;
          throw new Error('simulated onnxruntime failure');
        }
        return run(ids, tokens);
      };
      return p;
    },
    info: () => ({}),
    exit: () => {},
  });
  try {
    const send = (): Promise<Response> => fetch(`${app.url}/v1/embeddings`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-request-id': 'req-42' }, body: '{"input":"x"}' });
    const bad = await send();
    assert.equal(bad.status, 500);
    const body = (await bad.json()) as { error: { message: string; request_id: string } };
    assert.equal(body.error.request_id, 'req-42');
    assert.doesNotMatch(body.error.message, /simulated/, 'no internals in the answer');
    assert.ok(lines.some((l) => l.includes('simulated onnxruntime failure') && l.includes('req-42')), 'the log has the details');
    assert.equal((await send()).status, 200);
  } finally {
    await app.shutdown('test');
  }
});

test('the inference thread dying: /health says failed with the reason (so the platform restarts the Machine), requests get 503', async () => {
  const { Pipeline } = await import('../../src/pipeline/pipeline.js');
  const { startApp } = await import('../../src/server/app.js');
  const { serveConfig } = await import('../../src/settings/serve.js');
  const { createLogger } = await import('../../src/server/logger.js');
  const { preparedDir } = await preparedFixture('tiny', 'int8');
  const app = await startApp({
    cfg: serveConfig({ host: '127.0.0.1', port: '0' }, {}),
    batchTokens: 256,
    log: createLogger('error'),
    load: () => Pipeline.load(preparedDir, { threads: 1, batchTokens: 256 }),
    info: () => ({}),
    exit: () => {},
  });
  try {
    const send = (): Promise<Response> => fetch(`${app.url}/v1/embeddings`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"input":"x"}' });
    assert.equal((await send()).status, 200);
    // The thread goes as a crash would take it: terminated from outside, not released.
    const model = await app.service.model();
    const thread = (model as unknown as { session: { worker: { terminate(): Promise<number> } } }).session.worker;
    await thread.terminate();
    const health = await fetch(`${app.url}/health`);
    assert.equal(health.status, 503);
    assert.match(((await health.json()) as { reason: string }).reason, /the inference thread stopped/);
    const r = await send();
    assert.equal(r.status, 503);
    assert.ok(r.headers.get('retry-after'));
  } finally {
    await app.shutdown('test');
  }
});
