// Floods and auth probing against the real serve process on loopback.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { flood, medianLatency, procMemMB } from '../helpers/load.js';
import { preparedFixture } from '../helpers/models.js';
import { spawnServe, type ServeProcess } from '../helpers/serve-process.js';

const KEY = 'overload-test-key-123';
let s: ServeProcess;
const auth = { authorization: `Bearer ${KEY}` };

before(async () => {
  const { modelDir } = await preparedFixture('tiny', 'int8');
  // No embedding cache: the same bodies are sent again and again, and each must load the queue.
  s = await spawnServe(['--model-dir', modelDir, '--api-key', KEY, '--max-queued-inputs', '64', '--threads', '1', '--cache-memory-mb', '0']);
  await s.waitFor('model ready');
});
after(async () => {
  s.child.kill('SIGTERM');
  await s.exited;
});

const single = JSON.stringify({ input: 'один короткий запрос' });
const batch32 = JSON.stringify({ input: Array.from({ length: 32 }, (_, i) => `passage: текст номер ${i} для нагрузки `.repeat(4)) });
const send = (): Promise<Response> => fetch(`${s.url}/v1/embeddings`, { method: 'POST', headers: { 'content-type': 'application/json', ...auth }, body: single });

test('64 connections of mixed single and 32-text requests: only 200 and 429; memory bounded; the queue drains', async () => {
  const before = await medianLatency(send, 30);
  const r = await flood(s.url, { connections: 64, seconds: 8, bodies: [single, batch32], headers: auth });
  const mem = procMemMB(s.child.pid as number);
  // The flood is over once nothing is queued: then a request is served, not refused.
  while (!/^ortos_queue_inputs 0$/m.test(await (await fetch(`${s.url}/metrics`, { headers: auth })).text())) await new Promise((r) => setTimeout(r, 20));
  assert.equal((await send()).status, 200);
  const after = await medianLatency(send, 30);
  // Latencies are reported, not asserted: they depend on the machine.
  console.log(`flood: ${r.requests} requests in ${r.durationS} s, statuses ${JSON.stringify(r.statuses)}, p50 ${r.p50} ms, p99 ${r.p99} ms, ` +
    `peak RSS ${mem.hwm.toFixed(0)} MB; single-request median ${before.toFixed(1)} ms before, ${after.toFixed(1)} ms after`);
  assert.deepEqual(Object.keys(r.statuses).filter((k) => k !== '200' && k !== '429'), []);
  assert.ok((r.statuses['429'] ?? 0) > 0, 'the queue bound was reached');
  assert.ok((r.statuses['200'] ?? 0) > 0);
  assert.equal(r.errors, 0);
  assert.ok(mem.hwm < 512, `peak RSS ${mem.hwm} MB`);
});

test('auth misses all get the same 401, whatever was sent', async () => {
  const cases: Record<string, Record<string, string>> = {
    'no key': {},
    'wrong key': { authorization: 'Bearer overload-test-key-124' },
    'key in another header': { 'x-api-key': KEY },
    'wrong key without Bearer': { authorization: 'overload-test-key-124' },
    'wrong key in api-key': { 'api-key': 'overload-test-key-124' },
    'very long key': { authorization: `Bearer ${'k'.repeat(8000)}` },
  };
  // That they take the same time is a benchmark (bench/auth-timing.ts): timing is not a test.
  const bodies = new Set<string>();
  for (const [name, headers] of Object.entries(cases)) {
    const r = await fetch(`${s.url}/v1/embeddings`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: single });
    assert.equal(r.status, 401, name);
    const e = (await r.json()) as { error: { type: string; code: string } };
    bodies.add(`${e.error.type}/${e.error.code}`);
  }
  assert.deepEqual([...bodies], ['authentication_error/invalid_api_key']);
  for (const path of ['/ready', '/info', '/metrics', '/tokenize', '/embed']) {
    const r = await fetch(s.url + path, { method: path === '/tokenize' || path === '/embed' ? 'POST' : 'GET' });
    assert.equal(r.status, 401, path);
  }
  assert.equal((await fetch(`${s.url}/health`)).status, 200);
});
