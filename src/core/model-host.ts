// Owns the model's lifecycle: loading in the background after the port is bound, then
// ready or failed. Requests that arrive while loading wait here, up to a bound.

import { ServiceError } from './errors.js';

export type ModelState<T> = { status: 'loading' } | { status: 'ready'; model: T } | { status: 'failed'; reason: string };

export class ModelHost<T> {
  state: ModelState<T> = { status: 'loading' };
  private waiters: Array<() => void> = [];

  constructor(private readonly loadTimeoutMs: number) {}

  /** Requests waiting for the model to load. */
  get waiting(): number {
    return this.waiters.length;
  }

  /** The model was lost after loading: from now on requests get unavailable with this reason. */
  fail(reason: string): void {
    this.state = { status: 'failed', reason };
  }

  start(load: () => Promise<T>, onDone?: (state: ModelState<T>) => void): void {
    load().then(
      (model) => {
        this.state = { status: 'ready', model };
      },
      (e: unknown) => {
        this.state = { status: 'failed', reason: (e as Error).message };
      },
    ).finally(() => {
      for (const w of this.waiters.splice(0)) w();
      onDone?.(this.state);
    });
  }

  /** The model, waiting for it while loading; unavailable (with when to retry) if it failed or takes too long. */
  async get(signal?: AbortSignal): Promise<T> {
    if (this.state.status === 'loading') {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, this.loadTimeoutMs);
        const onAbort = (): void => done();
        function done(): void {
          clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
          resolve();
        }
        this.waiters.push(done);
        signal?.addEventListener('abort', onAbort, { once: true });
      });
    }
    const s = this.state;
    if (s.status === 'ready') return s.model;
    if (s.status === 'failed') throw new ServiceError('unavailable', `the model failed to load: ${s.reason}`, 'model_failed', 30);
    throw new ServiceError('unavailable', 'the model is still loading', 'model_loading', 1);
  }
}
