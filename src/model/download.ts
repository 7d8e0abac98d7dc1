// Streams one file into its partial (`.incomplete`) file, resuming with Range after a dropped
// or stalled connection, a 5xx or a 429, within the hub's retry policy (retry.ts; across runs
// the partial file stays for the next one). Like huggingface_hub's `http_get`: a 200 to a Range
// request means the server ignored it, so the file starts over; a stall is "no byte for N
// seconds" (HF_HUB_DOWNLOAD_TIMEOUT).

import { open, stat, truncate } from 'node:fs/promises';
import { rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { connectionError, HubError, hubError, type HubHttp, retryAfterSeconds, type Subject } from './hub-http.js';
import { type Attempt, retrying, type RetryPolicy } from './retry.js';

export interface DownloadJob {
  subject: Subject;
  /** Where the bytes are (a CDN URL, or the hub's resolve-cache URL). */
  url: string;
  partial: string;
  /** Expected size, when the hub said it. */
  size?: number;
  /** A fresh download URL (signed CDN URLs expire): asked for when the old one is refused. */
  refresh?: () => Promise<string>;
}

export interface DownloadOptions {
  retry: RetryPolicy;
  /** No byte for this long ends the attempt (ms). */
  stallMs: number;
  progressEvery: number;
  log: (message: string) => void;
}

const mib = (n: number): string => (n / 2 ** 20).toFixed(1);

async function sizeOf(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch {
    return 0;
  }
}

class Stalled extends Error {}

export async function downloadFile(http: HubHttp, job: DownloadJob, opts: DownloadOptions): Promise<void> {
  const { log } = opts;
  let url = job.url;
  let refreshed = false;
  const name = job.subject.path ?? job.url;

  const once = async (attempt: number): Promise<Attempt<void>> => {
    let have = await sizeOf(job.partial);
    if (job.size !== undefined && have > job.size) {
      await truncate(job.partial, 0);
      have = 0;
    }
    if (job.size !== undefined && have === job.size) return { value: undefined };

    const controller = new AbortController();
    let stallTimer: NodeJS.Timeout | undefined;
    const arm = (): void => {
      clearTimeout(stallTimer);
      stallTimer = setTimeout(() => controller.abort(new Stalled(`no data for ${(opts.stallMs / 1000).toFixed(0)} s`)), opts.stallMs);
    };
    let got = have;
    let failure: string;
    let afterS: number | null = null;
    try {
      arm();
      const { res } = await http.once(url, 'GET', have > 0 ? { range: `bytes=${have}-` } : {}, false, controller.signal);
      if (res.status === 416 && have > 0) {
        await res.body?.cancel();
        if (job.size === undefined || have === job.size) return { value: undefined };
        await truncate(job.partial, 0);
        failure = `the server refused to resume at ${mib(have)} MiB (HTTP 416)`;
      } else if (res.status >= 400 || res.body === null) {
        const retryable = res.status === 408 || res.status === 429 || res.status >= 500;
        if (!retryable && job.refresh && !refreshed && (res.status === 400 || res.status === 403 || res.status === 404)) {
          // A signed CDN URL that expired during a long run: ask the hub for a new one once.
          await res.body?.cancel();
          clearTimeout(stallTimer);
          refreshed = true;
          url = await job.refresh();
          log(`  ${name}: the download URL was refused (HTTP ${res.status}); got a fresh one from the hub`);
          return once(attempt);
        }
        afterS = retryAfterSeconds(res.headers);
        const error = await hubError(res, job.subject, new URL(url).origin, http.hasToken, attempt + 1);
        clearTimeout(stallTimer);
        if (!retryable) throw error;
        return { failed: `HTTP ${res.status}`, afterS, giveUp: () => error };
      } else {
        const encoded = (res.headers.get('content-encoding') ?? 'identity').toLowerCase() !== 'identity';
        if (have > 0 && (res.status !== 206 || encoded || !(res.headers.get('content-range') ?? '').startsWith(`bytes ${have}-`))) {
          log(`  ${name}: the server sent the whole file instead of the rest; starting over`);
          have = 0;
          got = 0;
        }
        const total = job.size ?? (encoded ? 0 : Number(res.headers.get('content-length') ?? 0) + have);
        log(have > 0 ? `resuming ${name} at ${mib(have)} of ${mib(total)} MiB` : `downloading ${name} (${total > 0 ? `${mib(total)} MiB` : 'size unknown'})`);
        const file = await open(job.partial, have > 0 ? 'a' : 'w');
        const started = Date.now();
        let last = started;
        try {
          for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
            arm();
            await file.write(chunk);
            got += chunk.length;
            const now = Date.now();
            if (now - last >= opts.progressEvery) {
              last = now;
              const rate = (got - have) / Math.max(0.001, (now - started) / 1000);
              log(`  ${name}: ${mib(got)}/${mib(total)} MiB (${total > 0 ? Math.floor((got / total) * 100) : '?'}%) ${mib(rate)} MiB/s`);
            }
          }
        } finally {
          await file.close();
        }
        clearTimeout(stallTimer);
        if (job.size === undefined || got === job.size) return { value: undefined };
        if (got > job.size) {
          await truncate(job.partial, 0);
          throw new HubError(`${name}: the server sent ${got} bytes, ${job.size} were expected; the partial file was deleted`);
        }
        failure = `the connection ended at ${mib(got)} of ${mib(job.size)} MiB`;
      }
    } catch (e) {
      clearTimeout(stallTimer);
      if (e instanceof HubError) throw e;
      const code = (e as { code?: string }).code;
      if (code === 'ENOSPC' || code === 'EDQUOT') {
        rmSync(job.partial, { force: true });
        throw new HubError(`${name}: the disk is full (${dirname(job.partial)}); nothing was kept. Free ${job.size !== undefined ? mib(job.size) + ' MiB' : 'space'} and retry`);
      }
      const reason = controller.signal.reason instanceof Stalled ? (controller.signal.reason as Stalled).message : connectionError(e);
      got = await sizeOf(job.partial);
      failure = `${reason} at ${mib(got)} MiB`;
    }
    clearTimeout(stallTimer);
    const why = failure;
    return {
      failed: `${why}; resuming`,
      progressed: got > have,
      giveUp: () => new HubError(`${name}: download interrupted (${why}) after ${opts.retry.max} retries; run again to resume`, true),
    };
  };

  await retrying(opts.retry, name, log, once);
}
