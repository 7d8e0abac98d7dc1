// The serve process as Fly runs it: signals, freezing, idle exit and refusing unsafe setups.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { before, test } from 'node:test';
import { preparedFixture } from '../testing/models.js';
import { BIN, spawnServe } from '../testing/serve-process.js';

let modelDir: string;
before(async () => {
  modelDir = (await preparedFixture('tiny', 'int8')).modelDir;
});

const embed = (url: string, input: unknown): Promise<Response> =>
  fetch(`${url}/v1/embeddings`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ input }) });

test('SIGTERM with a request in flight: it completes, then the process exits 0', async () => {
  const s = await spawnServe(['--model-dir', modelDir, '--batch-tokens', '16', '--threads', '1']);
  await s.waitFor('model ready');
  const big = embed(s.url, Array.from({ length: 512 }, (_, i) => `текст номер ${i} `.repeat(6)));
  await new Promise((r) => setTimeout(r, 150));
  s.child.kill('SIGTERM');
  const res = await big;
  assert.equal(res.status, 200);
  assert.equal(((await res.json()) as { data: unknown[] }).data.length, 512);
  assert.equal(await s.exited, 0);
  const down = s.logs.find((l) => l.msg === 'shutting down');
  assert.equal(down?.inFlight, 1, 'the signal arrived while the request was being served');
  assert.ok(s.logs.some((l) => l.msg === 'stopped'));
});

test('SIGINT (Fly\'s default kill signal) also drains and exits 0', async () => {
  const s = await spawnServe(['--model-dir', modelDir]);
  await s.waitFor('model ready');
  s.child.kill('SIGINT');
  assert.equal(await s.exited, 0);
});

test('frozen for 5 s (SIGSTOP) then thawed (SIGCONT): the next request answers at once', async () => {
  const s = await spawnServe(['--model-dir', modelDir, '--idle-exit', '3s']);
  try {
    await s.waitFor('model ready');
    assert.equal((await embed(s.url, 'до')).status, 200);
    s.child.kill('SIGSTOP');
    await new Promise((r) => setTimeout(r, 5000));
    s.child.kill('SIGCONT');
    const t0 = Date.now();
    const r = await embed(s.url, 'после');
    assert.equal(r.status, 200);
    assert.ok(Date.now() - t0 < 1000, 'answered promptly after thawing');
    assert.equal(s.child.exitCode, null, 'a clock jump across the freeze did not trigger the idle exit');
  } finally {
    s.child.kill('SIGTERM');
    await s.exited;
  }
});

test('--idle-exit: exits 0 after that long without requests', async () => {
  const s = await spawnServe(['--model-dir', modelDir, '--idle-exit', '1s']);
  await s.waitFor('model ready');
  assert.equal((await embed(s.url, 'x')).status, 200);
  const t0 = Date.now();
  assert.equal(await s.exited, 0);
  const waited = Date.now() - t0;
  assert.ok(waited >= 900 && waited < 5000, `exited after ${waited} ms`);
  assert.ok(s.logs.some((l) => l.msg === 'idle: exiting'));
});

test('binding a public address without an API key is refused (exit 2) unless --insecure-no-auth', () => {
  const r = spawnSync(process.execPath, [BIN, 'serve', '--host', '0.0.0.0', '--port', '0', '--model-dir', modelDir], { encoding: 'utf8', timeout: 10_000 });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /refusing to listen on 0\.0\.0\.0 without an API key/);
});

test('the wake phases are logged and exported as gauges, in order', async () => {
  const s = await spawnServe(['--model-dir', modelDir, '--metrics-open']);
  try {
    assert.equal((await embed(s.url, 'первый')).status, 200);
    const first = await s.waitFor('first response');
    const listening = s.logs.find((l) => l.msg === 'listening');
    const ready = s.logs.find((l) => l.msg === 'model ready');
    assert.ok(Number(listening?.sinceStartMs) <= Number(ready?.sinceStartMs));
    assert.ok(Number(ready?.sinceStartMs) <= Number(first.sinceStartMs));
    await new Promise((r) => setTimeout(r, 300));
    const metrics = await (await fetch(`${s.url}/metrics`)).text();
    for (const phase of ['listening', 'model_ready', 'first_response']) assert.match(metrics, new RegExp(`ortos_wake_seconds\\{phase="${phase}"\\} [0-9.]+`));
  } finally {
    s.child.kill('SIGTERM');
    await s.exited;
  }
});
