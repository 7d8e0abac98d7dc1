// Owns the model's lifecycle: loading in the background after the port is bound, then
// ready or failed. Requests that arrive while loading wait here, up to a bound. Some need only
// part of the model (the tokenizer, to answer from the embedding cache): `early` hands that
// part out as soon as the loader reports it.

import { ServiceError } from './errors.js';

export type ModelState<T> = { status: 'loading' } | { status: 'ready'; model: T } | { status: 'failed'; reason: string };

interface Waiter {
  /** Waiting for the early part only (not counted as waiting for the model). */
  early: boolean;
  done: () => void;
}

export class ModelHost<T, E = never> {
  state: ModelState<T> = { status: 'loading' };
  private earlyPart: E | null = null;
  private waiters: Waiter[] = [];

  constructor(private readonly loadTimeoutMs: number) {}

  /** Requests waiting for the model to load. */
  get waiting(): number {
    return this.waiters.filter((w) => !w.early).length;
  }

  /** The model was lost after loading: from now on requests get unavailable with this reason. */
  fail(reason: string): void {
    this.state = { status: 'failed', reason };
  }

  /** `load` may report the early part (`tell`) before it resolves with the whole model. */
  start(load: (tell: (part: E) => void) => Promise<T>, onDone?: (state: ModelState<T>) => void): void {
    const tell = (part: E): void => {
      this.earlyPart = part;
      for (const w of this.waiters.filter((x) => x.early)) w.done();
    };
    load(tell).then(
      (model) => {
        this.state = { status: 'ready', model };
      },
      (e: unknown) => {
        this.state = { status: 'failed', reason: (e as Error).message };
      },
    ).finally(() => {
      for (const w of [...this.waiters]) w.done();
      onDone?.(this.state);
    });
  }

  private wait(early: boolean, signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve) => {
      const finish = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', finish);
        const i = this.waiters.indexOf(waiter);
        if (i >= 0) this.waiters.splice(i, 1);
        resolve();
      };
      const waiter: Waiter = { early, done: finish };
      const timer = setTimeout(finish, this.loadTimeoutMs);
      this.waiters.push(waiter);
      signal?.addEventListener('abort', finish, { once: true });
    });
  }

  private settled(): T {
    const s = this.state;
    if (s.status === 'ready') return s.model;
    if (s.status === 'failed') throw new ServiceError('unavailable', `the model failed to load: ${s.reason}`, 'model_failed', 30);
    throw new ServiceError('unavailable', 'the model is still loading', 'model_loading', 1);
  }

  /** The model, waiting for it while loading; unavailable (with when to retry) if it failed or takes too long. */
  async get(signal?: AbortSignal): Promise<T> {
    if (this.state.status === 'loading') await this.wait(false, signal);
    return this.settled();
  }

  /**
   * The early part as soon as it is known, or the model if it was loaded without one; the same
   * errors as get() if neither comes.
   */
  async early(signal?: AbortSignal): Promise<{ part: E } | { model: T }> {
    if (this.earlyPart === null && this.state.status === 'loading') await this.wait(true, signal);
    if (this.state.status === 'ready') return { model: this.state.model };
    if (this.earlyPart !== null && this.state.status === 'loading') return { part: this.earlyPart };
    return { model: this.settled() };
  }
}
