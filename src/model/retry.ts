// The one retry loop of every hub request and download. huggingface_hub's `_http_backoff_base`:
// up to `max` retries after the first try, sleeping `baseMs` doubling to `maxMs`, or what the
// server's Retry-After / RateLimit header says (plus a second) where it says so; a wait longer
// than `maxRetryAfterMs` is not waited for. Its `http_get`: a try that moved bytes refills the
// budget, so a long download on a flaky link goes on as long as it makes progress.

export interface RetryPolicy {
  /** Retries after the first attempt. */
  max: number;
  baseMs: number;
  maxMs: number;
  /** A Retry-After longer than this is not waited for: the error says when to try again. */
  maxRetryAfterMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { max: 5, baseMs: 1000, maxMs: 8000, maxRetryAfterMs: 120_000 };

/** What one try came to: a value, or a failure worth another try. */
export type Attempt<T> =
  | { value: T }
  | {
      /** Why it failed, for the log line. */
      failed: string;
      /** Seconds the server asked to wait, if it did. */
      afterS?: number | null;
      /** The try moved the work on (bytes arrived): the budget starts afresh. */
      progressed?: boolean;
      /** The error to throw when no retry is left (or the server asks for too long a wait). */
      giveUp: () => Error | Promise<Error>;
    };

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Runs `attempt` (given the try's number, from 0) until it gives a value; each retry is logged
 * as "<what>: <failed>; retry k of max in s".
 */
export async function retrying<T>(policy: RetryPolicy, what: string, log: (message: string) => void, attempt: (n: number) => Promise<Attempt<T>>): Promise<T> {
  let used = 0;
  let wait = policy.baseMs;
  for (let n = 0; ; n++) {
    const a = await attempt(n);
    if ('value' in a) return a.value;
    if (a.progressed === true) {
      used = 0;
      wait = policy.baseMs;
    }
    const afterMs = a.afterS === undefined || a.afterS === null ? null : (a.afterS + 1) * 1000;
    if (used >= policy.max || (afterMs !== null && afterMs > policy.maxRetryAfterMs)) throw await a.giveUp();
    used++;
    const ms = afterMs ?? wait;
    log(`  ${what}: ${a.failed}; retry ${used} of ${policy.max} in ${(ms / 1000).toFixed(1)} s`);
    await sleep(ms);
    if (afterMs === null) wait = Math.min(policy.maxMs, wait * 2);
  }
}
