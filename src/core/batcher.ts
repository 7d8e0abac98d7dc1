// The queue all requests share, for every model served (the embedder and a reranker take
// turns in it). Each request's inputs wait here already tokenized; one worker forms batches of
// one model under a padded-token budget and runs them one at a time.
//
// Fairness: requests take turns. A request that put inputs into a batch and still has
// more goes to the back of the line, so a single query behind a 256-input request waits
// for at most one batch. A request's inputs are cut into batches once, when it arrives
// (planBatches: shortest first, least padding plus run overhead); a batch is the next group
// of the request whose turn it is, joined by other requests' next groups when running them
// together costs less than running them apart (many single queries become one run).

import { planBatches, RUN_OVERHEAD_TOKENS } from '../engine/batching.js';
import { ServiceError } from './errors.js';
import { RunCost } from './run-cost.js';

export interface BatchRun {
  rows: number;
  paddedTokens: number;
  ms: number;
}

interface Job {
  ids: readonly number[][];
  /** Token vectors wanted (/embed_all), not the pooled vector. */
  tokens: boolean;
  /** Which model runs it: a run holds one model's rows (the embedder's, or a reranker's). */
  model: string;
  /** Token types per row (a cross-encoder's pairs), or null. */
  types: readonly number[][] | null;
  /** Input indices in the groups planned at arrival; `next` is the first group not yet run. */
  groups: number[][];
  /** Each group's padded tokens (rows × its longest row). */
  padded: number[];
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
  /**
   * Longest expected wait (ms) a new request may join: the runs and padded tokens queued
   * ahead of it at the measured cost of each (run-cost.ts). A client is better served by a quick 429 with
   * Retry-After than by an answer after half a minute.
   */
  maxQueueWaitMs?: number;
  onBatch?: (b: BatchRun) => void;
  /** The clock runs are timed with (milliseconds). */
  now?: () => number;
}

/**
 * Runs one batch of one model: per row, in row order, the raw (unnormalized) pooled vector, or
 * where `tokens[row]` is set, the row's token vectors back to back; for a reranker, its logits.
 */
export type RunBatch = (ids: number[][], tokens: boolean[], of: { model: string; types: number[][] | null }) => Promise<Float32Array[]>;

/** The embedding model's key in the queue (the default); a reranker's is its own. */
export const EMBED_MODEL = 'embed';

export class Batcher {
  private jobs: Job[] = [];
  private queuedInputs = 0;
  private queuedRuns = 0;
  private queuedPadded = 0;
  private readonly cost = new RunCost();
  /** Moving average of model time per padded token, from the batches run so far. */
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

  /** Expected time (ms) to work through what is queued now, if known. */
  get expectedWaitMs(): number | null {
    return this.cost.estimate(this.queuedRuns, this.queuedPadded);
  }

  submit(ids: readonly number[][], signal?: AbortSignal, opts: { tokens?: boolean; model?: string; types?: readonly number[][] } = {}): Promise<Float32Array[]> {
    const wait = this.expectedWaitMs;
    const retryAfter = Math.max(1, Math.ceil((wait ?? this.queuedInputs * 5) / 1000));
    if (ids.length > this.opts.maxQueuedInputs) {
      // Waiting cannot help a request the queue could never hold: not a 429 to retry forever.
      return Promise.reject(new ServiceError('too_large', `${ids.length} inputs to compute in one request, more than the queue holds (${this.opts.maxQueuedInputs}, --max-queued-inputs): send at most ${this.opts.maxQueuedInputs} at a time`, 'too_many_inputs_for_queue'));
    }
    if (this.queuedInputs + ids.length > this.opts.maxQueuedInputs) {
      return Promise.reject(new ServiceError('overloaded', `the queue is full (${this.queuedInputs} inputs waiting); retry later`, 'queue_full', retryAfter));
    }
    const maxWait = this.opts.maxQueueWaitMs;
    if (maxWait !== undefined && wait !== null && wait > maxWait && this.queuedInputs > 0) {
      return Promise.reject(new ServiceError('overloaded', `busy: about ${(wait / 1000).toFixed(1)} s of work is queued; retry later`, 'queue_full', retryAfter));
    }
    if (ids.length === 0) return Promise.resolve([]);
    return new Promise((resolve, reject) => {
      const groups = planBatches(ids.map((row) => row.length), this.opts.batchTokens);
      const padded = groups.map((g) => g.length * Math.max(...g.map((i) => ids[i].length)));
      const job: Job = { ids, tokens: opts.tokens === true, model: opts.model ?? EMBED_MODEL, types: opts.types ?? null, groups, padded, next: 0, done: 0, results: new Array<Float32Array>(ids.length), signal, resolve, reject };
      // A newcomer goes before the requests that have had a turn already: it waits for the run
      // under way at most, also when it cannot join the next run (another model's rows).
      const started = this.jobs.findIndex((j) => j.next > 0);
      if (started < 0) this.jobs.push(job);
      else this.jobs.splice(started, 0, job);
      this.queuedInputs += ids.length;
      this.queuedRuns += groups.length;
      for (const p of padded) this.queuedPadded += p;
      if (!this.running) void this.loop();
    });
  }

  private take(job: Job): number[] {
    this.queuedRuns--;
    this.queuedPadded -= job.padded[job.next];
    const group = job.groups[job.next++];
    this.queuedInputs -= group.length;
    return group;
  }

  private drop(job: Job, reason: unknown): void {
    while (job.next < job.groups.length) this.take(job);
    job.reject(reason);
  }

  private form(): Array<{ job: Job; index: number }> {
    const rows: Array<{ job: Job; index: number }> = [];
    let longest = 0;
    const budget = this.opts.batchTokens;
    const contributed = new Set<Job>();
    let model: string | null = null;
    for (const job of this.jobs) {
      if (job.next >= job.groups.length) continue;
      if (job.signal?.aborted) {
        this.drop(job, new ServiceError('cancelled', 'client closed the request', 'client_closed'));
        continue;
      }
      // The request whose turn it is chooses the model; others of that model may join it.
      if (model !== null && job.model !== model) continue;
      const group = job.groups[job.next];
      const groupLongest = Math.max(...group.map((i) => job.ids[i].length));
      if (rows.length > 0) {
        // Joins only if one run of both costs no more than two runs, and fits the budget.
        const together = (rows.length + group.length) * Math.max(longest, groupLongest);
        const apart = rows.length * longest + group.length * groupLongest + RUN_OVERHEAD_TOKENS;
        if (together > budget || together > apart) continue;
      }
      for (const index of this.take(job)) rows.push({ job, index });
      model = job.model;
      longest = Math.max(longest, groupLongest);
      contributed.add(job);
    }
    const waiting = this.jobs.filter((j) => j.next < j.groups.length);
    this.jobs = [...waiting.filter((j) => !contributed.has(j)), ...waiting.filter((j) => contributed.has(j))];
    return rows;
  }

  private async loop(): Promise<void> {
    this.running = true;
    try {
      while (this.jobs.length > 0) {
        const rows = this.form();
        if (rows.length === 0) continue;
        const now = this.opts.now ?? (() => performance.now());
        const t0 = now();
        let vectors: Float32Array[];
        try {
          const types = rows[0].job.types === null ? null : rows.map((r) => (r.job.types as number[][])[r.index]);
          vectors = await this.run(rows.map((r) => r.job.ids[r.index] as number[]), rows.map((r) => r.job.tokens), { model: rows[0].job.model, types });
        } catch (e) {
          for (const job of new Set(rows.map((r) => r.job))) this.drop(job, e);
          this.jobs = this.jobs.filter((j) => j.next < j.groups.length);
          continue;
        }
        const longest = Math.max(...rows.map((r) => r.job.ids[r.index].length));
        const ms = now() - t0;
        this.cost.observe(rows.length * longest, ms);
        this.opts.onBatch?.({ rows: rows.length, paddedTokens: rows.length * longest, ms });
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
