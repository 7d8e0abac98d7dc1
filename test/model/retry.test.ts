// The one retry loop of hub requests and downloads, on its own: budget, backoff, Retry-After,
// and the budget refilled by progress.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type Attempt, retrying, type RetryPolicy } from '../../src/model/retry.js';

const policy: RetryPolicy = { max: 3, baseMs: 100, maxMs: 400, maxRetryAfterMs: 1500 };

/** Runs `retrying` over scripted tries; each entry is one try's outcome. */
async function run(tries: Array<Attempt<string>>): Promise<{ result: string | Error; logs: string[]; calls: number }> {
  const logs: string[] = [];
  let calls = 0;
  try {
    const result = await retrying(policy, 'file', (m) => logs.push(m), async (n) => {
      assert.equal(n, calls, 'tries are numbered from 0');
      return tries[calls++];
    });
    return { result, logs, calls };
  } catch (e) {
    return { result: e as Error, logs, calls };
  }
}

const fail = (extra: Partial<Extract<Attempt<string>, { failed: string }>> = {}): Attempt<string> => ({ failed: 'HTTP 503', giveUp: () => new Error('gave up'), ...extra });

test('backoff doubles to its cap; past `max` retries the try\'s own error', { timeout: 10_000 }, async () => {
  const t0 = performance.now();
  const r = await run([fail(), fail(), fail(), fail(), { value: 'never' }]);
  assert.ok(performance.now() - t0 >= 650, 'it waited 0.1 + 0.2 + 0.4 s');
  assert.equal((r.result as Error).message, 'gave up');
  assert.equal(r.calls, 4, 'one try and three retries');
  assert.deepEqual(r.logs, ['  file: HTTP 503; retry 1 of 3 in 0.1 s', '  file: HTTP 503; retry 2 of 3 in 0.2 s', '  file: HTTP 503; retry 3 of 3 in 0.4 s']);
  const capped = await run([fail(), fail(), fail(), { value: 'ok' }]);
  assert.equal(capped.result, 'ok');
});

test('Retry-After is waited (plus a second) and does not double the backoff; a longer one is not waited for', { timeout: 10_000 }, async () => {
  const r = await run([fail({ afterS: 0 }), fail({ afterS: null }), { value: 'ok' }]);
  assert.equal(r.result, 'ok');
  assert.deepEqual(r.logs, ['  file: HTTP 503; retry 1 of 3 in 1.0 s', '  file: HTTP 503; retry 2 of 3 in 0.1 s'], 'no header (null): the backoff');
  const t0 = performance.now();
  const long = await run([fail({ afterS: 1, giveUp: () => new Error('retry in 1 s') }), { value: 'never' }]);
  assert.equal((long.result as Error).message, 'retry in 1 s', '2 s is over the 1.5 s bound');
  assert.ok(performance.now() - t0 < 1000, 'and nothing was waited');
});

test('a try that made progress refills the budget: a download goes on as long as bytes arrive', { timeout: 10_000 }, async () => {
  const r = await run([fail(), fail(), fail({ progressed: true }), fail(), fail(), fail({ progressed: true }), { value: 'done' }]);
  assert.equal(r.result, 'done');
  assert.equal(r.calls, 7);
  assert.deepEqual(r.logs.map((l) => /retry (\d) of 3 in ([\d.]+) s/.exec(l)?.slice(1).join('@')), ['1@0.1', '2@0.2', '1@0.1', '2@0.2', '3@0.4', '1@0.1']);
});
