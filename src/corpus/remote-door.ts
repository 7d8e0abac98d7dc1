// `embed --input … --url URL`: the rows go to a running service instead of a model in this
// process, through its OpenAI route with base64 vectors (the same float32 bits, a quarter of the
// JSON; the bytes of a compact type likewise). Behind Fly's proxy (or any load balancer) the service is the unit: several Machines take
// the batches this client keeps in flight (--concurrency). A 429 or 503 is waited out as its
// Retry-After says, a dropped connection or a 5xx from a proxy retried (model/retry.ts); a 4xx
// that retrying cannot help ends the job with the service's own message.

import { retrying, type Attempt, type RetryPolicy } from '../model/retry.js';
import type { EmbedOptions } from '../service/embedding-service.js';
import { JobError } from './job-error.js';
import { fromBase64, type Vector } from '../vectors/compact.js';

const POLICY: RetryPolicy = { max: 8, baseMs: 500, maxMs: 8000, maxRetryAfterMs: 120_000 };

export interface Embedded {
  vectors: Vector[];
  tokens: number;
  cached: number;
}

/** What the job needs of a door: the service's own (in-process) or this remote one. */
export interface Door {
  embed(inputs: { texts: readonly string[] }, opts: Omit<EmbedOptions, 'cache'>): Promise<Embedded>;
}

export class RemoteDoor implements Door {
  private readonly url: string;

  constructor(
    base: string,
    private readonly apiKey: string | undefined,
    private readonly log: (message: string) => void,
    private readonly policy: RetryPolicy = POLICY,
  ) {
    this.url = `${base.replace(/\/+$/, '')}/v1/embeddings`;
  }

  async embed(inputs: { texts: readonly string[] }, opts: Omit<EmbedOptions, 'cache'>): Promise<Embedded> {
    const dtype = opts.dtype ?? 'float';
    const body = JSON.stringify({ input: inputs.texts, encoding_format: 'base64', ...(dtype !== 'float' ? { output_dtype: dtype } : {}), ...(opts.prompt !== undefined ? { input_type: opts.prompt } : {}), ...(opts.instruction !== undefined ? { instruction: opts.instruction } : {}) });
    const headers: Record<string, string> = { 'content-type': 'application/json', ...(this.apiKey !== undefined ? { authorization: `Bearer ${this.apiKey}` } : {}) };
    return retrying(this.policy, `POST ${this.url}`, this.log, async (): Promise<Attempt<Embedded>> => {
      let res: Response;
      try {
        res = await fetch(this.url, { method: 'POST', headers, body });
      } catch (e) {
        const err = e as { cause?: { code?: string; message?: string }; message: string };
        const why = err.cause?.code ?? err.cause?.message ?? err.message;
        return { failed: why, giveUp: () => new JobError(`cannot reach ${this.url} (${why})`) };
      }
      if (res.status === 200) {
        const answer = (await res.json()) as { data: Array<{ embedding: string }>; usage?: { prompt_tokens?: number } };
        const vectors = answer.data.map((d) => fromBase64(d.embedding, dtype));
        return { value: { vectors, tokens: answer.usage?.prompt_tokens ?? 0, cached: Number(res.headers.get('x-cached-inputs') ?? 0) } };
      }
      const text = await res.text();
      let message = text.slice(0, 300);
      try {
        message = (JSON.parse(text) as { error?: { message?: string } }).error?.message ?? message;
      } catch {
        // a proxy's page, not the service's JSON
      }
      const retryable = res.status === 429 || res.status === 408 || res.status >= 500;
      if (!retryable) throw new JobError(`${this.url} answered ${res.status}: ${message}`);
      const after = /^\d+$/.test(res.headers.get('retry-after') ?? '') ? Number(res.headers.get('retry-after')) : null;
      return { failed: `HTTP ${res.status} (${message.slice(0, 80)})`, afterS: after, giveUp: () => new JobError(`${this.url} kept answering ${res.status}: ${message}`) };
    });
  }
}
