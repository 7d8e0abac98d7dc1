// HTTP to the Hugging Face hub, following the rules its own clients follow today:
//
// - Redirects are followed by hand. A redirect that stays on the hub (a relative Location,
//   the configured HF_ENDPOINT's host, or a known hub host) is followed with its query string
//   kept: small files answer `307 /api/resolve-cache/…?…&etag=…`, renamed repos answer a
//   relative 307, a mirror may 308 to huggingface.co (huggingface_hub `_http.py`
//   `_httpx_follow_relative_redirects_with_backoff`; PR #4644 for the query string, PR #4739 and
//   issue #4637 for hub hosts; hf-hub PR #176). A redirect elsewhere (the LFS/Xet CDN) is where a
//   metadata request stops: the file's SHA-256 and size are on that 302 (X-Linked-Etag,
//   X-Linked-Size), and the CDN rejects a request that carries Authorization.
// - Authorization goes to hub hosts only.
// - `Accept-Encoding: identity`, so sizes are the file's, not a gzip body's (`get_hf_file_metadata`).
// - Retries on connection errors, 408, 429 and 5xx, by the one retry loop (retry.ts); each
//   retry is logged.
// - Errors are read from X-Error-Code / X-Error-Message (`hf_raise_for_status`) and turned into a
//   message that names the way out.

import { type Attempt, DEFAULT_RETRY, retrying, type RetryPolicy } from './retry.js';

export class HubError extends Error {
  constructor(
    message: string,
    /** The hub could not be reached or kept failing: a cached copy may stand in. */
    readonly transient = false,
  ) {
    super(message);
    this.name = 'HubError';
  }
}

/** The hub's own hosts, besides the configured endpoint's (huggingface_hub `constants.HF_URL_HOSTS`). */
export const KNOWN_HUB_HOSTS: readonly string[] = ['huggingface.co', 'hf.co', 'hub-ci.huggingface.co'];

export interface HubHttpOptions {
  endpoint: string;
  token?: string;
  /** Hosts (host[:port]) to treat as the hub, besides the endpoint's and KNOWN_HUB_HOSTS. */
  hubHosts?: readonly string[];
  retry?: Partial<RetryPolicy>;
  /** How long a metadata request may take (HF_HUB_ETAG_TIMEOUT). */
  metadataTimeoutMs?: number;
  log: (message: string) => void;
  fetch?: typeof fetch;
}

/** What the request was for, to say so in errors. */
export interface Subject {
  repo: string;
  revision?: string;
  path?: string;
}

export interface HubResponse {
  res: Response;
  /** The URL that answered (after the hub-internal redirects). */
  url: string;
}

const RETRY_STATUS = new Set([408, 429, 500, 502, 503, 504]);

/** The ways in without the hub, named wherever the hub cannot be reached. */
const OFFLINE_WAYS = 'Without it: HF_HUB_OFFLINE=1 serves a model already in the hub cache; --model-dir DIR a local folder in the hub layout; ' +
  'in a clone of this project, --model-dir "$(npm run -s fixture -- --size e5-base)" a generated model of the same shape (random weights)';

/** Seconds to wait from `Retry-After` (delay-seconds) or `RateLimit: "api";r=0;t=55`. */
export function retryAfterSeconds(headers: Headers): number | null {
  const rl = /"\w+"\s*;\s*r\s*=\s*(\d+)\s*;\s*t\s*=\s*(\d+)/.exec(headers.get('ratelimit') ?? '');
  if (rl && Number(rl[1]) === 0) return Number(rl[2]);
  const ra = (headers.get('retry-after') ?? '').trim();
  return /^\d+$/.test(ra) ? Number(ra) : null;
}

function describe(s: Subject): string {
  return `${s.repo}${s.revision ? `@${s.revision}` : ''}${s.path ? ` ${s.path}` : ''}`;
}

export class HubHttp {
  private readonly fetch: typeof fetch;
  /** The retry policy of every hub request and download (defaults merged here, once). */
  readonly retry: RetryPolicy;
  private readonly hubHosts: Set<string>;
  readonly endpoint: URL;

  constructor(private readonly opts: HubHttpOptions) {
    this.fetch = opts.fetch ?? fetch;
    this.retry = { ...DEFAULT_RETRY, ...opts.retry };
    this.endpoint = new URL(opts.endpoint.replace(/\/+$/, '') + '/');
    this.hubHosts = new Set([this.endpoint.host, ...KNOWN_HUB_HOSTS, ...(opts.hubHosts ?? [])]);
  }

  url(path: string): string {
    return new URL(path.replace(/^\//, ''), this.endpoint).toString();
  }

  isHub(url: string | URL): boolean {
    return this.hubHosts.has(new URL(url).host);
  }

  get hasToken(): boolean {
    return this.opts.token !== undefined;
  }

  headersFor(url: string, extra: Record<string, string> = {}): Record<string, string> {
    return {
      'user-agent': 'ortos-embed',
      'accept-encoding': 'identity',
      ...(this.opts.token && this.isHub(url) ? { authorization: `Bearer ${this.opts.token}` } : {}),
      ...extra,
    };
  }

  /**
   * One request, following hub-internal redirects (`stopOffHub`: stop at the first redirect that
   * leaves the hub and return it; otherwise follow it too, without Authorization).
   */
  async once(url: string, method: 'GET' | 'HEAD', extra: Record<string, string>, stopOffHub: boolean, signal?: AbortSignal): Promise<HubResponse> {
    let current = url;
    for (let hop = 0; hop < 10; hop++) {
      const res = await this.fetch(current, { method, headers: this.headersFor(current, extra), redirect: 'manual', signal });
      const location = res.headers.get('location');
      if (res.status < 300 || res.status > 399 || location === null) return { res, url: current };
      // RFC 3986 resolution: a relative target keeps its own query, dot-segments resolve.
      const target = new URL(location, current).toString();
      if (!this.isHub(target) && stopOffHub) return { res, url: current };
      await res.body?.cancel();
      current = target;
    }
    throw new HubError(`${url}: too many redirects`);
  }

  /**
   * A request with retries. Answers ≥ 400 that are not worth retrying become a HubError that
   * says what to do; so do the last of the retried ones.
   */
  async request(url: string, subject: Subject, init: { method?: 'GET' | 'HEAD'; headers?: Record<string, string>; stopOffHub?: boolean; timeoutMs?: number } = {}): Promise<HubResponse> {
    const method = init.method ?? 'GET';
    return retrying(this.retry, `${method} ${url}`, this.opts.log, async (attempt): Promise<Attempt<HubResponse>> => {
      let answer: HubResponse;
      try {
        const timeout = init.timeoutMs ?? this.opts.metadataTimeoutMs;
        answer = await this.once(url, method, init.headers ?? {}, init.stopOffHub ?? true, timeout ? AbortSignal.timeout(timeout) : undefined);
      } catch (e) {
        if (e instanceof HubError) throw e;
        const reason = connectionError(e);
        // A name that does not resolve will not resolve in a second either: no machine without
        // a network should wait through the retries to be told so.
        if (reason === 'ENOTFOUND') {
          throw new HubError(`cannot reach ${this.endpoint.origin}: the name ${this.endpoint.hostname} does not resolve (ENOTFOUND; no network, or HF_ENDPOINT misspelled), ` +
            `for ${describe(subject)}. ${OFFLINE_WAYS}`, true);
        }
        return { failed: reason, giveUp: () => new HubError(`cannot reach ${this.endpoint.origin} (${reason}) for ${describe(subject)}. ${OFFLINE_WAYS}`, true) };
      }
      const { res } = answer;
      if (res.status < 400) return { value: answer };
      if (!RETRY_STATUS.has(res.status)) throw await hubError(res, subject, this.endpoint.origin, this.hasToken);
      const afterS = retryAfterSeconds(res.headers);
      const error = await hubError(res, subject, this.endpoint.origin, this.hasToken, attempt + 1);
      return { failed: `HTTP ${res.status}${res.status === 429 ? ' (rate limited)' : ''}`, afterS, giveUp: () => error };
    });
  }
}

export function connectionError(e: unknown): string {
  const err = e as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (err.name === 'TimeoutError' || err.name === 'AbortError') return 'timed out';
  return err.cause?.code ?? err.cause?.message ?? err.message ?? String(e);
}

/** The hub's error answer as a message that names the way out. */
export async function hubError(res: Response, s: Subject, hub: string, withToken: boolean, attempts?: number): Promise<HubError> {
  const code = res.headers.get('x-error-code');
  let message = res.headers.get('x-error-message');
  if (message === null) {
    try {
      const text = (await res.text()).slice(0, 300);
      const json = JSON.parse(text) as { error?: unknown };
      message = typeof json.error === 'string' ? json.error : null;
    } catch {
      // not JSON: the status says enough
    }
  } else {
    await res.body?.cancel();
  }
  const said = message ? ` (the hub says: "${message}")` : '';
  const what = describe(s);
  if (code === 'GatedRepo') {
    return new HubError(res.status === 403 || withToken
      ? `${s.repo} is gated and the account of HF_TOKEN has not been granted access yet: ask for it at ${hub}/${s.repo}, wait for approval, then retry${said}`
      : `${s.repo} is gated: accept its conditions at ${hub}/${s.repo} with your account, then set HF_TOKEN to a token of that account${said}`);
  }
  if (code === 'RevisionNotFound') return new HubError(`${s.repo} has no revision "${s.revision ?? ''}": check the part after @ in --model${said}`);
  if (code === 'EntryNotFound') return new HubError(`${what}: no such file in the repo${said}`);
  if (res.status === 401 && message === 'Invalid credentials in Authorization header') {
    return new HubError(`the hub refused HF_TOKEN as invalid credentials: check it, or unset it for a public repo${said}`);
  }
  if (code === 'RepoNotFound' || (res.status === 401 && !withToken)) {
    return new HubError(`${s.repo} was not found on ${hub}: check the name` +
      `${withToken ? ', and that the account of HF_TOKEN can see it' : '; a private or gated repo needs HF_TOKEN'}${said}`);
  }
  if (res.status === 403) return new HubError(`${what}: forbidden by ${hub}; check that HF_TOKEN has read access${said}`);
  if (res.status === 429) {
    const after = retryAfterSeconds(res.headers);
    return new HubError(`${hub} rate-limited this client${attempts ? ` (${attempts} tries)` : ''}; ` +
      `${after !== null ? `retry in ${after} s` : 'retry later'}${withToken ? '' : ' (a token, HF_TOKEN, raises the limit)'}${said}`, true);
  }
  if (res.status >= 500) {
    return new HubError(`${hub} answered HTTP ${res.status} for ${what}${attempts ? ` ${attempts} times` : ''}; it may be down, retry later${said}`, true);
  }
  return new HubError(`${what}: HTTP ${res.status} from ${hub}${said}`);
}
