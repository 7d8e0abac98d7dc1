// The shared queue against the real (tiny) model: which inputs run together, and in what order.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Pipeline } from '../../src/pipeline/pipeline.js';
import { preparedFixture } from '../helpers/models.js';
import { Batcher, type BatchRun } from '../../src/core/batcher.js';
import { ServiceError } from '../../src/core/errors.js';

let pipeline: Pipeline;
before(async () => {
  pipeline = await Pipeline.load((await preparedFixture('tiny', 'fp32')).preparedDir, { threads: 1, batchTokens: 256 });
});
after(() => pipeline.close());

function batcher(runs: BatchRun[], shapes: number[][][]): Batcher {
  return new Batcher(
    async (ids) => {
      shapes.push(ids);
      return pipeline.run(ids, null);
    },
    { batchTokens: 256, maxQueuedInputs: 4096, onBatch: (b) => runs.push(b) },
  );
}

const ids = (len: number, seed: number): number[] => [0, ...Array.from({ length: len - 2 }, (_, i) => 5 + ((seed * 31 + i * 7) % 1000)), 2];

test('eight single queries of similar length waiting together run as one batch, each getting its own vector', async () => {
  const runs: BatchRun[] = [];
  const shapes: number[][][] = [];
  const b = batcher(runs, shapes);
  const first = b.submit([ids(9, 99)]); // starts the worker at once, alone
  const queries = Array.from({ length: 8 }, (_, i) => ids(8 + (i % 3), i));
  const answers = await Promise.all(queries.map((q) => b.submit([q])));
  await first;
  assert.equal(runs.length, 2, `runs: ${runs.map((r) => r.rows).join(', ')}`);
  assert.equal(runs[1].rows, 8);
  const alone = await pipeline.run([queries[5]], null);
  const worst = Math.max(...alone[0].map((x, k) => Math.abs(x - answers[5][0][k])));
  assert.ok(worst < 1e-5, `the batched vector is the one embedded alone (diff ${worst})`);
});

test('a short query is not padded to a long one: it waits for the next run instead', async () => {
  const runs: BatchRun[] = [];
  const shapes: number[][][] = [];
  const b = batcher(runs, shapes);
  const long = b.submit([ids(200, 1)]);
  const short = b.submit([ids(6, 2)]);
  await Promise.all([long, short]);
  assert.deepEqual(runs.map((r) => r.paddedTokens), [200, 6]);
});

test('requests take turns: a single query behind a 64-input request runs after its first batch, not its last', async () => {
  const runs: BatchRun[] = [];
  const shapes: number[][][] = [];
  const b = batcher(runs, shapes);
  const order: string[] = [];
  const big = b.submit(Array.from({ length: 64 }, (_, i) => ids(20 + (i % 30), i))).then(() => order.push('big'));
  const one = b.submit([ids(60, 7)]).then(() => order.push('one'));
  await Promise.all([big, one]);
  assert.deepEqual(order, ['one', 'big']);
  const oneRun = shapes.findIndex((s) => s.some((row) => row.length === 60 && row[1] === ids(60, 7)[1]));
  assert.ok(oneRun >= 0 && oneRun < shapes.length - 1, `the query ran in batch ${oneRun} of ${shapes.length}`);
});

test('a request whose client went away is dropped and its inputs leave the queue count', { timeout: 30_000 }, async () => {
  const runs: BatchRun[] = [];
  const b = batcher(runs, []);
  const first = b.submit([ids(200, 1)]); // runs at once
  const controller = new AbortController();
  const gone = b.submit(Array.from({ length: 5 }, (_, i) => ids(30, i)), controller.signal);
  const kept = b.submit([ids(12, 3)]);
  assert.equal(b.queued, 6, 'five inputs of the request that will go away and one other wait');
  controller.abort();
  await assert.rejects(gone, (e: unknown) => e instanceof ServiceError && e.kind === 'cancelled');
  await Promise.all([first, kept]);
  assert.equal(b.queued, 0, 'nothing is left counted in the queue');
  assert.equal(b.expectedWaitMs, 0, 'nor its tokens');
  assert.equal(runs.reduce((n, r) => n + r.rows, 0), 2, 'the dropped inputs never ran');
});
