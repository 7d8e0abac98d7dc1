// The serve process as Fly runs it: signals, freezing, idle exit and refusing unsafe setups.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { before, test } from 'node:test';
import { preparedFixture } from '../helpers/models.js';
import { BIN, spawnServe } from '../helpers/serve-process.js';

let modelDir: string;
before(async () => {
  modelDir = (await preparedFixture('tiny', 'int8')).modelDir;
});

const embed = (url: string, input: unknown): Promise<Response> =>
  fetch(`${url}/v1/embeddings`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ input }) });

test('SIGTERM with a request in flight: it completes, then the process exits 0', async () => {
  const s = await spawnServe(['--model-dir', modelDir, '--threads', '1', '--log-level', 'debug']);
  await s.waitFor('model ready');
  // A request whose body is still arriving is in flight for as long as the test wants: the
  // signal lands while it is being served, on a fast machine as on a slow one.
  const body = Buffer.from(JSON.stringify({ input: Array.from({ length: 64 }, (_, i) => `текст номер ${i} `.repeat(6)) }));
  const { hostname, port } = new URL(s.url);
  const answer = new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = httpRequest({ host: hostname, port, method: 'POST', path: '/v1/embeddings', headers: { 'content-type': 'application/json', 'content-length': body.length } }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    req.write(body.subarray(0, 10));
    void s.waitFor('shutting down').then(() => req.end(body.subarray(10)));
  });
  await s.waitFor('request received');
  s.child.kill('SIGTERM');
  const res = await answer;
  assert.equal(res.status, 200);
  assert.equal((JSON.parse(res.body) as { data: unknown[] }).data.length, 64);
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
    const r = await embed(s.url, 'после');
    assert.equal(r.status, 200, 'answered after thawing');
    assert.equal(s.child.exitCode, null, 'a clock jump across the freeze did not trigger the idle exit');
    assert.ok(!s.logs.some((l) => l.msg === 'idle: exiting'));
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
  // Never before the idle time; how much later depends on the machine, so it is not bounded.
  assert.ok(waited >= 900, `exited after ${waited} ms`);
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
    // Recorded before the first answer's log line, replayed once prom-client has loaded.
    const metrics = await (await fetch(`${s.url}/metrics`)).text();
    for (const phase of ['listening', 'model_ready', 'first_response']) assert.match(metrics, new RegExp(`ortos_wake_seconds\\{phase="${phase}"\\} [0-9.]+`));
  } finally {
    s.child.kill('SIGTERM');
    await s.exited;
  }
});
