// The shared queue's rules on their own, with a model run the test controls: each row's
// "vector" names the row ([length, its second id, token vectors asked]), and a fake clock
// advances by a fixed time per run and per padded token, so the queue's time estimates are
// exact numbers.
// What runs together, in what order, what is refused (429) and when, and what each request gets.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Batcher, type BatchRun, type BatcherOptions } from '../../src/core/batcher.js';
import { ServiceError } from '../../src/core/errors.js';

interface Harness {
  b: Batcher;
  runs: Array<{ lengths: number[]; tokens: boolean[] }>;
  stats: BatchRun[];
  /** Holds every run until released. */
  hold(): void;
  release(): void;
  /** The next run not yet failed fails with `e` (in the order given). */
  failNext(e: Error): void;
  /** Milliseconds per padded token (2 to start with) and per run (0) the next runs take. */
  speed(perToken: number, perRun?: number): void;
}

function harness(opts: Partial<BatcherOptions> = {}): Harness {
  let clock = 1000;
  let gate: Promise<void> | null = null;
  let open: (() => void) | null = null;
  const failures: Error[] = [];
  let msPerToken = 2;
  let msPerRun = 0;
  const runs: Harness['runs'] = [];
  const stats: BatchRun[] = [];
  const b = new Batcher(async (ids, tokens) => {
    runs.push({ lengths: ids.map((r) => r.length), tokens: [...tokens] });
    if (gate) await gate;
    const longest = Math.max(...ids.map((r) => r.length));
    clock += msPerRun + msPerToken * ids.length * longest;
    const failure = failures.shift();
    if (failure) throw failure;
    return ids.map((row, i) => Float32Array.from([row.length, row[1] ?? -1, tokens[i] ? 1 : 0]));
  }, { batchTokens: 64, maxQueuedInputs: 100, onBatch: (s) => stats.push(s), now: () => clock, ...opts });
  return {
    b,
    runs,
    stats,
    hold: () => {
      gate = new Promise((r) => (open = r));
    },
    release: () => {
      gate = null;
      open?.();
    },
    failNext: (e) => {
      failures.push(e);
    },
    speed: (perToken, perRun = 0) => {
      msPerToken = perToken;
      msPerRun = perRun;
    },
  };
}

/** A row of `len` ids whose second id is `tag`. */
const row = (len: number, tag: number): number[] => [0, tag, ...new Array<number>(Math.max(0, len - 2)).fill(7)].slice(0, len);
const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

test('each request gets its own rows back, in its order; an empty request is answered at once', async () => {
  const h = harness();
  const a = h.b.submit([row(5, 11), row(9, 12), row(3, 13)]);
  const c = h.b.submit([row(4, 21)], undefined, { tokens: true });
  const [ra, rc] = await Promise.all([a, c]);
  assert.deepEqual(ra.map((v) => Array.from(v)), [[5, 11, 0], [9, 12, 0], [3, 13, 0]]);
  assert.deepEqual(rc.map((v) => Array.from(v)), [[4, 21, 1]], 'token vectors asked for this request only');
  assert.deepEqual(await h.b.submit([]), []);
  assert.equal(h.b.queued, 0);
  assert.equal(h.b.busy, false);
});

test('the queue bound: a request that would pass it is refused with when to retry; one that fills it exactly is taken', async () => {
  const h = harness({ maxQueuedInputs: 10 });
  h.hold();
  const first = h.b.submit([row(4, 1)]);
  await tick();
  assert.equal(h.b.busy, true);
  const waiting = h.b.submit(Array.from({ length: 6 }, (_, i) => row(4, i)));
  assert.equal(h.b.queued, 6);
  await assert.rejects(h.b.submit(Array.from({ length: 5 }, (_, i) => row(4, i))), (e: unknown) =>
    e instanceof ServiceError && e.kind === 'overloaded' && e.code === 'queue_full' && e.message === 'the queue is full (6 inputs waiting); retry later' && e.retryAfterS === 1);
  assert.equal(h.b.queued, 6, 'a refused request leaves nothing behind');
  // One the queue could never hold is too large, not "retry later": retrying would never end.
  await assert.rejects(h.b.submit(Array.from({ length: 11 }, (_, i) => row(4, i))), (e: unknown) =>
    e instanceof ServiceError && e.kind === 'too_large' && e.code === 'too_many_inputs_for_queue' && /11 inputs .* more than the queue holds \(10, --max-queued-inputs\)/.test(e.message));
  const fills = h.b.submit(Array.from({ length: 4 }, (_, i) => row(4, i)));
  assert.equal(h.b.queued, 10);
  h.release();
  await Promise.all([first, waiting, fills]);
  assert.equal(h.b.queued, 0);
  assert.equal(h.b.busy, false);
});

test('the wait estimate: the measured time per padded token; it refuses work that would wait too long and follows a slower machine', async () => {
  const h = harness({ maxQueueWaitMs: 100 });
  assert.equal(h.b.expectedWaitMs, null, 'unknown before any run');
  await h.b.submit([row(10, 1)]);
  assert.deepEqual(h.stats.map((s) => [s.rows, s.paddedTokens, s.ms]), [[1, 10, 20]]);
  assert.equal(h.b.expectedWaitMs, 0, 'nothing queued');
  h.hold();
  const running = h.b.submit([row(8, 3)]);
  await tick();
  // One run of 4 × 10 padded tokens at 2 ms each.
  const queued = h.b.submit(Array.from({ length: 4 }, (_, i) => row(10, i)));
  assert.equal(h.b.expectedWaitMs, 80);
  // Under the bound, so taken: 12 more tokens in a run of their own, 104 ms in all (a run pads
  // to its longest row: see the next test).
  const last = h.b.submit([row(12, 9)]);
  assert.equal(h.b.expectedWaitMs, 104);
  assert.equal(h.b.queued, 5);
  await assert.rejects(h.b.submit([row(3, 9)]), (e: unknown) =>
    e instanceof ServiceError && e.kind === 'overloaded' && e.code === 'queue_full' && e.message === 'busy: about 0.1 s of work is queued; retry later' && e.retryAfterS === 1);
  h.release();
  await Promise.all([running, queued, last]);
  // The machine turns 50 times slower: within a few runs the estimate says so.
  h.speed(100);
  for (let i = 0; i < 4; i++) await h.b.submit([row(10, i)]);
  h.hold();
  const again = h.b.submit([row(2, 0)]);
  await tick();
  const q = h.b.submit([row(40, 2)]);
  const wait = h.b.expectedWaitMs ?? 0;
  assert.ok(wait > 40 * 50, `${wait} ms for 40 tokens`);
  await assert.rejects(h.b.submit([row(2, 3)]), (e: unknown) => e instanceof ServiceError && e.retryAfterS === Math.ceil(wait / 1000) && e.retryAfterS > 1);
  h.release();
  await Promise.all([again, q]);
});

test('the wait estimate counts padded tokens: a run of rows of 2 and 10 tokens is 2 × 10', async () => {
  const h = harness({ maxQueueWaitMs: 1000 });
  await h.b.submit([row(10, 1)]);
  h.hold();
  const running = h.b.submit([row(8, 3)]);
  await tick();
  const mixed = h.b.submit([row(2, 1), row(10, 2)]);
  assert.equal(h.runs.length, 2);
  assert.equal(h.b.expectedWaitMs, 40, 'one run of 2 × 10 padded tokens at 2 ms each');
  h.release();
  await Promise.all([running, mixed]);
});

test('the wait estimate tells a run\'s fixed cost from its cost per token: long work behind a stream of single queries is not refused', async () => {
  // Runs cost 5 ms plus 0.01 ms per padded token: what a small model's runs look like.
  const h = harness({ batchTokens: 4096, maxQueuedInputs: 1000, maxQueueWaitMs: 1000 });
  h.speed(0.01, 5);
  for (const n of [8, 30, 12, 20, 16, 10, 24]) await h.b.submit([row(n, 1)]);
  // Then many queries of one size, which alone cannot tell the parts apart.
  for (let i = 0; i < 30; i++) await h.b.submit([row(12, i)]);
  h.hold();
  const running = h.b.submit([row(2, 0)]);
  await tick();
  // 64 inputs of 512 tokens: 8 runs of 8 × 512, 8 × 5 + 32,768 × 0.01 = 367.68 ms. Charged per
  // token alone (5.12 ms a 12-token run) they would look like 14 s, and be refused.
  const long = h.b.submit(Array.from({ length: 64 }, (_, i) => row(512, i)));
  assert.ok(Math.abs((h.b.expectedWaitMs ?? 0) - 367.68) < 1e-6, `${h.b.expectedWaitMs} ms`);
  const behind = h.b.submit([row(12, 99)]);
  h.release();
  await Promise.all([running, long, behind]);
});

test('retry after: queued inputs × 5 ms before anything ran, rounded up to whole seconds, at least 1', async () => {
  const h = harness({ maxQueuedInputs: 300 });
  h.hold();
  const first = h.b.submit([row(2, 0)]);
  await tick();
  const big = h.b.submit(Array.from({ length: 250 }, (_, i) => row(2, i)));
  await assert.rejects(h.b.submit(Array.from({ length: 60 }, (_, i) => row(2, i))), (e: unknown) => e instanceof ServiceError && e.retryAfterS === 2, '250 × 5 ms = 1.25 s → 2 s');
  h.release();
  await Promise.all([first, big]);
});

test('batches: a request cut by its plan, others joined only within the budget and when cheaper than apart', async () => {
  const h = harness({ batchTokens: 64 });
  h.hold();
  const first = h.b.submit([row(4, 0)]);
  await tick();
  // 8 rows of 8: 64 padded tokens, one batch; a 40-token row would pass the budget with them.
  const a = h.b.submit(Array.from({ length: 8 }, (_, i) => row(8, i)));
  const long = h.b.submit([row(40, 1)]);
  // Two short ones join each other (2 × 6 = 12 ≤ 6 + 5 + overhead) but not the 40-token run.
  const s1 = h.b.submit([row(6, 2)]);
  const s2 = h.b.submit([row(5, 3)]);
  h.release();
  await Promise.all([first, a, long, s1, s2]);
  assert.deepEqual(h.runs.map((r) => r.lengths), [[4], [8, 8, 8, 8, 8, 8, 8, 8], [40], [6, 5]]);
  assert.deepEqual(h.stats.map((s) => s.paddedTokens), [4, 64, 40, 12]);
  assert.deepEqual(h.stats.map((s) => s.rows), [1, 8, 1, 2]);
});

test('turns: a request with more batches goes to the back after each one; a short one behind it runs second', async () => {
  const h = harness({ batchTokens: 16 });
  h.hold();
  const first = h.b.submit([row(2, 0)]);
  await tick();
  const order: string[] = [];
  const big = h.b.submit(Array.from({ length: 4 }, (_, i) => row(16, 10 + i))).then(() => order.push('big'));
  const small = h.b.submit([row(16, 99)]).then(() => order.push('small'));
  h.release();
  await Promise.all([first, big, small]);
  assert.deepEqual(h.runs.map((r) => r.lengths.length), [1, 1, 1, 1, 1, 1]);
  assert.equal(h.runs.findIndex((r) => r.lengths[0] === 16 && h.runs.indexOf(r) > 0), 1);
  assert.deepEqual(order, ['small', 'big']);
});

test('a failed run fails the requests in it, and only them; the queue goes on', async () => {
  const h = harness({ batchTokens: 16 });
  h.hold();
  const first = h.b.submit([row(2, 0)]);
  await tick();
  const doomed = h.b.submit([row(8, 1), row(8, 2), row(16, 3)]);
  const after = h.b.submit([row(16, 4)]);
  h.failNext(new Error('the model run failed'));
  h.failNext(new Error('again'));
  h.release();
  await assert.rejects(first, /the model run failed/);
  await assert.rejects(doomed, /again/);
  assert.deepEqual(h.runs.map((r) => r.lengths), [[2], [8, 8], [16]], 'the failed request\'s second batch never ran');
  assert.deepEqual(Array.from((await after)[0]), [16, 4, 0]);
  assert.equal(h.b.queued, 0, 'the failed request\'s other inputs left the queue');
  assert.equal(h.b.busy, false);
});

test('a request whose client left is dropped before its turn; others in the queue are not', async () => {
  const h = harness({ batchTokens: 16 });
  h.hold();
  const first = h.b.submit([row(2, 0)]);
  await tick();
  const controller = new AbortController();
  const gone = h.b.submit([row(16, 1), row(16, 2)], controller.signal);
  const stays = h.b.submit([row(16, 3)]);
  controller.abort();
  h.release();
  await assert.rejects(gone, (e: unknown) => e instanceof ServiceError && e.kind === 'cancelled' && e.code === 'client_closed');
  await Promise.all([first, stays]);
  assert.deepEqual(h.runs.map((r) => r.lengths), [[2], [16]]);
  assert.equal(h.b.queued, 0);
});

test('joining at the edges: exactly the budget joins, past it does not; cost equal to apart joins; a group is as long as its longest', async () => {
  const cases: Array<{ budget: number; requests: number[][]; runs: number[][] }> = [
    // 4 × 8 and 4 × 8: 64 padded tokens, exactly the budget, cheaper together (64 < 72).
    { budget: 64, requests: [[8, 8, 8, 8], [8, 8, 8, 8]], runs: [[8, 8, 8, 8, 8, 8, 8, 8]] },
    // 4 × 16 then one 16: together 80 would be past the budget, though cheaper than apart (88).
    { budget: 64, requests: [[16, 16, 16, 16], [16]], runs: [[16, 16, 16, 16], [16]] },
    // 10 and 2: together 2 × 10 = 20, apart 10 + 2 + 8 = 20: as cheap, so one run.
    { budget: 64, requests: [[10], [2]], runs: [[10, 2]] },
    // 30 and 2: together 60 fits the budget but costs more than apart (40): two runs.
    { budget: 64, requests: [[30], [2]], runs: [[30], [2]] },
    // A group of 12 and 16 is 16 long: three 12s more would make 5 × 16 = 80, past the budget.
    { budget: 64, requests: [[12, 16], [12, 12, 12]], runs: [[12, 16], [12, 12, 12]] },
    // One input longer than the budget still runs, alone.
    { budget: 64, requests: [[100], [3]], runs: [[100], [3]] },
  ];
  for (const c of cases) {
    const h = harness({ batchTokens: c.budget });
    h.hold();
    const first = h.b.submit([row(1, 0)]);
    await tick();
    const all = c.requests.map((lens, k) => h.b.submit(lens.map((len, i) => row(len, k * 100 + i))));
    h.release();
    await Promise.all([first, ...all]);
    assert.deepEqual(h.runs.slice(1).map((r) => r.lengths), c.runs, JSON.stringify(c.requests));
  }
});

test('the wait bound at its edge: a wait exactly at the bound is taken', async () => {
  const h = harness({ maxQueueWaitMs: 100 });
  await h.b.submit([row(10, 1)]); // 2 ms per token, exactly
  h.hold();
  const running = h.b.submit([row(2, 0)]);
  await tick();
  const q = h.b.submit(Array.from({ length: 5 }, (_, i) => row(10, i)));
  assert.equal(h.b.expectedWaitMs, 100);
  const atEdge = h.b.submit([row(3, 9)]);
  assert.equal(h.b.queued, 6, 'taken at exactly the bound');
  h.release();
  await Promise.all([running, q, atEdge]);
});

test('a queue with only a request whose client left runs nothing; a queue without a batch observer works', async () => {
  const h = harness();
  h.hold();
  const first = h.b.submit([row(2, 0)]);
  await tick();
  const controller = new AbortController();
  const gone = h.b.submit([row(5, 1)], controller.signal);
  controller.abort();
  h.release();
  await first;
  await assert.rejects(gone, (e: unknown) => e instanceof ServiceError && e.message === 'client closed the request');
  assert.deepEqual(h.runs.map((r) => r.lengths), [[2]], 'no empty run');
  assert.equal(h.b.busy, false);
  const plain = new Batcher(async (ids) => ids.map((r) => Float32Array.from([r.length])), { batchTokens: 64, maxQueuedInputs: 10 });
  assert.deepEqual((await plain.submit([row(3, 1)])).map((v) => Array.from(v)), [[3]]);
  assert.ok((plain.expectedWaitMs ?? -1) >= 0);
});

test('two models in one queue: a run holds one model\'s rows with their token types; a newcomer of the other model runs right after the run under way', async () => {
  const runs: Array<{ model: string; rows: number; types: number[][] | null }> = [];
  let open!: () => void;
  let gate: Promise<void> | null = new Promise((r) => (open = r));
  const b = new Batcher(async (ids, _tokens, of) => {
    runs.push({ model: of.model, rows: ids.length, types: of.types });
    if (gate) await gate;
    return ids.map((row) => Float32Array.from([row.length]));
  }, { batchTokens: 16, maxQueuedInputs: 100 });
  const rows = (n: number, len: number): number[][] => Array.from({ length: n }, () => Array(len).fill(5));
  // 4 pairs of 16 tokens: one run each; the first is held.
  const rerank = b.submit(rows(4, 16), undefined, { model: 'rerank', types: rows(4, 16).map((r, i) => r.map(() => i % 2)) });
  await new Promise((r) => setImmediate(r));
  const embedA = b.submit(rows(1, 4));
  const embedB = b.submit(rows(2, 4));
  gate = null;
  open();
  await Promise.all([rerank, embedA, embedB]);
  assert.deepEqual(runs.map((r) => `${r.model}:${r.rows}`), ['rerank:1', 'embed:3', 'rerank:1', 'rerank:1', 'rerank:1'], 'the two embedding requests joined one run; no run mixed models');
  assert.deepEqual(runs[0].types, [Array(16).fill(0)], 'each row\'s token types reach the run');
  assert.equal(runs[1].types, null);
  assert.deepEqual(runs[2].types, [Array(16).fill(1)]);
});

test('rows of two models are never in one run, even where joining would be cheaper', async () => {
  const runs: string[][] = [];
  let open!: () => void;
  let gate: Promise<void> | null = new Promise((r) => (open = r));
  const b = new Batcher(async (ids, _tokens, of) => {
    runs.push(ids.map(() => of.model));
    if (gate) await gate;
    return ids.map((row) => Float32Array.from([row.length]));
  }, { batchTokens: 64, maxQueuedInputs: 100 });
  // A run under way, so that both requests below wait for the same next run.
  const first = b.submit([[9, 9]]);
  const pairs = b.submit([[1, 2, 3, 4], [1, 2, 3, 4]], undefined, { model: 'rerank', types: [[0, 0, 1, 1], [0, 0, 1, 1]] });
  const query = b.submit([[1, 2, 3, 4]]);
  gate = null;
  open();
  await Promise.all([first, pairs, query]);
  assert.deepEqual(runs, [['embed'], ['rerank', 'rerank'], ['embed']]);
});
