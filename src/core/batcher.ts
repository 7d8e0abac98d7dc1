// The queue all requests share. Each request's inputs wait here already tokenized; one
// worker forms batches under a padded-token budget and runs them one at a time.
//
// Fairness: requests take turns. A request that put inputs into a batch and still has
// more goes to the back of the line, so a single query behind a 256-input request waits
// for at most one batch. Within a request, inputs go shortest first, which keeps padding low.

import { ApiError } from './errors.js';

export interface BatchRun {
  rows: number;
  paddedTokens: number;
  ms: number;
}

interface Job {
  ids: readonly number[][];
  order: number[];
  next: number;
  done: number;
  results: Float32Array[];
  signal?: AbortSignal;
  resolve: (v: Float32Array[]) => void;
  reject: (e: unknown) => void;
}

export interface BatcherOptions {
  batchTokens: number;
  /** Inputs waiting at most; beyond it a request is refused with 429. */
  maxQueuedInputs: number;
  onBatch?: (b: BatchRun) => void;
}

/** Runs one batch: raw (unnormalized) pooled vectors, one per row, in row order. */
export type RunBatch = (ids: number[][]) => Promise<Float32Array[]>;

export class Batcher {
  private jobs: Job[] = [];
  private queuedInputs = 0;
  private running = false;

  constructor(
    private readonly run: RunBatch,
    private readonly opts: BatcherOptions,
  ) {}

  get queued(): number {
    return this.queuedInputs;
  }

  get busy(): boolean {
    return this.running;
  }

  submit(ids: readonly number[][], signal?: AbortSignal): Promise<Float32Array[]> {
    if (this.queuedInputs + ids.length > this.opts.maxQueuedInputs) {
      const waitS = Math.max(1, Math.ceil(this.queuedInputs / 200));
      return Promise.reject(new ApiError(429, `the queue is full (${this.queuedInputs} inputs waiting); retry later`, 'rate_limit_error', 'queue_full', null, waitS));
    }
    if (ids.length === 0) return Promise.resolve([]);
    return new Promise((resolve, reject) => {
      const order = ids.map((_, i) => i).sort((a, b) => ids[a].length - ids[b].length || a - b);
      this.jobs.push({ ids, order, next: 0, done: 0, results: new Array<Float32Array>(ids.length), signal, resolve, reject });
      this.queuedInputs += ids.length;
      if (!this.running) void this.loop();
    });
  }

  private drop(job: Job, reason: unknown): void {
    this.queuedInputs -= job.order.length - job.next;
    job.next = job.order.length;
    job.reject(reason);
  }

  private form(): Array<{ job: Job; index: number }> {
    const rows: Array<{ job: Job; index: number }> = [];
    let longest = 0;
    const budget = this.opts.batchTokens;
    const contributed = new Set<Job>();
    outer: for (const job of this.jobs) {
      if (job.signal?.aborted) {
        this.drop(job, new ApiError(499, 'client closed the request'));
        continue;
      }
      while (job.next < job.order.length) {
        const index = job.order[job.next];
        const len = job.ids[index].length;
        const wouldBe = Math.max(longest, len) * (rows.length + 1);
        if (rows.length > 0 && wouldBe > budget) break outer;
        rows.push({ job, index });
        longest = Math.max(longest, len);
        job.next++;
        contributed.add(job);
      }
    }
    const waiting = this.jobs.filter((j) => j.next < j.order.length);
    this.jobs = [...waiting.filter((j) => !contributed.has(j)), ...waiting.filter((j) => contributed.has(j))];
    this.queuedInputs -= rows.length;
    return rows;
  }

  private async loop(): Promise<void> {
    this.running = true;
    try {
      while (this.jobs.length > 0) {
        const rows = this.form();
        if (rows.length === 0) continue;
        const t0 = performance.now();
        let vectors: Float32Array[];
        try {
          vectors = await this.run(rows.map((r) => r.job.ids[r.index] as number[]));
        } catch (e) {
          for (const job of new Set(rows.map((r) => r.job))) this.drop(job, e);
          this.jobs = this.jobs.filter((j) => j.next < j.order.length);
          continue;
        }
        const longest = Math.max(...rows.map((r) => r.job.ids[r.index].length));
        this.opts.onBatch?.({ rows: rows.length, paddedTokens: rows.length * longest, ms: performance.now() - t0 });
        rows.forEach((r, k) => {
          r.job.results[r.index] = vectors[k];
          r.job.done++;
          if (r.job.done === r.job.ids.length) r.job.resolve(r.job.results);
        });
      }
    } finally {
      this.running = false;
    }
  }
}
