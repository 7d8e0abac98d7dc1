// A stand-in for huggingface.co on loopback, answering as the real hub has since mid-2025.
// Written from the hub's public clients and what people have posted of its answers, not from
// our client:
//
// - `HEAD|GET /{repo}/resolve/{rev}/{small file}` → 307 with a *relative* Location
//   `/api/resolve-cache/models/{repo}/{commit}/{path}?%2F{repo}%2Fresolve%2F{rev}%2F{path}=&etag=%22{sha1}%22`
//   (curl output in huggingface/swift-transformers PR #209), no ETag, no file size; its
//   Content-Length is the redirect body's (huggingface_hub issue #4698). The resolve-cache URL
//   answers 200 with ETag and X-Repo-Commit; without its query it answers without X-Repo-Commit
//   (huggingface_hub issue #4637). With `Accept-Encoding: gzip` it compresses text files,
//   with a weak W/ ETag and no Content-Length (huggingface_hub issue #4741, `http_get`).
// - Private and gated repos, when authorised, serve small files directly (200) instead
//   (Wauplin on huggingface_hub issue #4815).
// - LFS/Xet files → 302 to an absolute URL on another origin (hub/cdn.ts) with X-Repo-Commit,
//   X-Linked-Etag (SHA-256), X-Linked-Size, X-Xet-Hash and a Link header with rel="xet-auth"
//   (headers posted in padeoe/hf-mirror-site issues #50 and #51).
// - `/api/models/{repo}[/revision/{rev}][?blobs=true]` → the model info JSON: `sha`, `siblings`
//   (with `size`, `blobId`, `lfs` when blobs=true), `gated`, `private` (huggingface_hub
//   `hf_api.py` ModelInfo / RepoSibling).
// - Errors carry X-Error-Code / X-Error-Message (`hf_raise_for_status`): RepoNotFound (401 without
//   a token, 404 with one), GatedRepo (401 without a token, 403 for an account not granted),
//   RevisionNotFound, EntryNotFound (with X-Repo-Commit); a bad token is 401 "Invalid credentials
//   in Authorization header". Rate limits: 429 with `RateLimit: "api";r=0;t=N`,
//   `RateLimit-Policy` and `Retry-After` (`parse_ratelimit_headers`).
// - A renamed repo answers its old name with a relative 307 to the new one, on the API and on
//   resolve (huggingface_hub PR #983); a mirror (`startMirror`) 308s to the hub's host (#4637).
//
// Its default is "huggingface.co today"; faults switch on 429s, 502/503s, and the CDN's drops,
// stalls, corruption and ignored ranges.

import { gzipSync } from 'node:zlib';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { startCdn, type CdnFaults, type RecordedRequest, type StandInCdn } from './hub/cdn.js';
import { loadRepo, type RepoSpec, type StandInFile, type StandInRepo } from './hub/repos.js';

export type { RepoSpec, StandInFile } from './hub/repos.js';
export type { RecordedRequest } from './hub/cdn.js';

export interface HubFaults extends CdnFaults {
  /** The next N hub requests answer 429 (rate limited). */
  rateLimit?: number;
  /** Seconds in the 429's Retry-After / RateLimit t= (default 1). */
  retryAfter?: number;
  /** The next N hub requests answer this 5xx (a failing load balancer). */
  failNext?: { count: number; status: 500 | 502 | 503 | 504 };
}

export interface StandInOptions {
  repos: RepoSpec[];
  /** Tokens the hub knows: token → ids of the repos its account may read (private) or passed the gate of. */
  tokens?: Record<string, string[]>;
  /** Loopback addresses for the hub and the CDN: different hosts, so different origins. */
  hubHost?: string;
  cdnHost?: string;
}

export interface StandInHub {
  /** The hub's URL: pass as HF_ENDPOINT. */
  url: string;
  /** host:port of the hub, for a client told which hosts are the hub. */
  host: string;
  cdnOrigin: string;
  repos: StandInRepo[];
  /** The first repo's commit and files (most tests serve one repo). */
  commit: string;
  files: StandInFile[];
  requests: RecordedRequest[];
  faults: HubFaults;
  /** A mirror on a third origin that answers everything with a 308 to this hub. */
  startMirror(host?: string): Promise<{ url: string; close(): Promise<void> }>;
  close(): Promise<void>;
}

const EXPOSED = 'X-Repo-Commit,X-Request-Id,X-Error-Code,X-Error-Message,X-Total-Count,ETag,Link,Accept-Ranges,Content-Range,X-Linked-Size,X-Linked-ETag,X-Xet-Hash';
const TEXT_TYPES: Record<string, string> = { json: 'application/json; charset=utf-8', txt: 'text/plain; charset=utf-8', md: 'text/markdown; charset=utf-8', model: 'application/octet-stream' };

function contentType(path: string): string {
  return TEXT_TYPES[path.split('.').pop() ?? ''] ?? 'text/plain; charset=utf-8';
}

function listen(server: Server, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve((server.address() as AddressInfo).port));
  });
}

function closer(server: Server): () => Promise<void> {
  return () => new Promise<void>((r) => {
    server.closeAllConnections();
    server.close(() => r());
  });
}

export async function startStandInHub(opts: StandInOptions): Promise<StandInHub> {
  const repos = opts.repos.map(loadRepo);
  const tokens = opts.tokens ?? {};
  const requests: RecordedRequest[] = [];
  const faults: HubFaults = {};
  const hubHost = opts.hubHost ?? '127.0.0.1';
  let cdn: StandInCdn | undefined;

  const findRepo = (id: string): { repo: StandInRepo; renamed: boolean } | null => {
    for (const r of repos) {
      if (r.id === id) return { repo: r, renamed: false };
      if (r.formerly?.includes(id)) return { repo: r, renamed: true };
    }
    return null;
  };

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const auth = req.headers.authorization;
    requests.push({ server: 'hub', method: req.method ?? '', path: url.pathname, query: url.search, range: req.headers.range, authorization: auth, acceptEncoding: req.headers['accept-encoding'] });
    const head = req.method === 'HEAD';
    const send = (status: number, headers: Record<string, string | number>, body: Buffer | string = ''): void => {
      const bytes = typeof body === 'string' ? Buffer.from(body) : body;
      res.writeHead(status, {
        'x-request-id': randomUUID(),
        'access-control-expose-headers': EXPOSED,
        vary: 'Origin',
        ...('content-length' in headers || 'transfer-encoding' in headers ? {} : { 'content-length': bytes.length }),
        ...headers,
      });
      res.end(head ? undefined : bytes);
    };
    const error = (status: number, code: string | null, message: string, extra: Record<string, string> = {}): void =>
      send(status, { 'content-type': 'application/json; charset=utf-8', ...(code ? { 'x-error-code': code } : {}), 'x-error-message': message, ...extra }, JSON.stringify({ error: message }));
    const isApi = url.pathname.startsWith('/api/');

    if (faults.rateLimit !== undefined && faults.rateLimit > 0) {
      faults.rateLimit--;
      const t = faults.retryAfter ?? 1;
      const bucket = isApi ? 'api' : 'resolvers';
      send(429, {
        'content-type': 'application/json; charset=utf-8',
        ratelimit: `"${bucket}";r=0;t=${t}`,
        'ratelimit-policy': `"fixed window";"${bucket}";q=${isApi ? 500 : 3000};w=300`,
        'retry-after': String(t),
      }, JSON.stringify({ error: `You have been rate-limited; you can retry this action in ${t} seconds.` }));
      return;
    }
    if (faults.failNext !== undefined && faults.failNext.count > 0) {
      faults.failNext.count--;
      const status = faults.failNext.status;
      send(status, { 'content-type': 'text/html' }, `<html>\r\n<head><title>${status}</title></head>\r\n<body>\r\n<center><h1>${status}</h1></center>\r\n</body>\r\n</html>\r\n`);
      return;
    }

    // Who is asking: anonymous, a known token, or a token the hub does not know.
    let grants: string[] | null = null;
    if (auth !== undefined) {
      const m = /^Bearer (.+)$/.exec(auth);
      const known = m ? tokens[m[1]] : undefined;
      if (known === undefined) return error(401, null, 'Invalid credentials in Authorization header');
      grants = known;
    }
    const notFound = (): void => error(grants === null ? 401 : 404, 'RepoNotFound', 'Repository not found');

    // /api/models/{org}/{name}[/revision/{rev}]
    const api = /^\/api\/models\/([^/]+\/[^/]+)(?:\/revision\/([^/]+))?$/.exec(url.pathname);
    if (api) {
      const found = findRepo(api[1]);
      if (!found || (found.repo.private && !grants?.includes(found.repo.id))) return notFound();
      const { repo, renamed } = found;
      if (renamed) {
        const rest = api[2] !== undefined ? `/revision/${api[2]}` : '';
        return send(307, { location: `/api/models/${repo.id}${rest}${url.search}`, 'content-type': 'text/plain; charset=utf-8' }, `Temporary Redirect. Redirecting to /api/models/${repo.id}${rest}${url.search}`);
      }
      const rev = decodeURIComponent(api[2] ?? 'main');
      const commit = repo.revisions.get(rev);
      if (commit === undefined) return error(404, 'RevisionNotFound', `Invalid rev id: ${rev}`);
      const blobs = url.searchParams.get('blobs') === 'true';
      return send(200, { 'content-type': 'application/json; charset=utf-8', ratelimit: '"api";r=499;t=300', 'ratelimit-policy': '"fixed window";"api";q=500;w=300' }, JSON.stringify({
        _id: repo.objectId,
        id: repo.id,
        modelId: repo.id,
        author: repo.id.split('/')[0],
        sha: commit,
        lastModified: '2026-11-01T00:00:00.000Z',
        private: repo.private === true,
        disabled: false,
        gated: repo.gated ? 'manual' : false,
        library_name: 'sentence-transformers',
        pipeline_tag: 'sentence-similarity',
        tags: ['sentence-transformers', 'onnx', 'xlm-roberta'],
        siblings: repo.files.map((f) => (blobs
          ? { rfilename: f.path, blobId: f.gitSha1, size: f.data.length, ...(f.lfs ? { lfs: { sha256: f.sha256, size: f.data.length, pointerSize: f.pointerSize } } : {}) }
          : { rfilename: f.path })),
        createdAt: '2023-06-30T00:00:00.000Z',
      }));
    }

    // /api/resolve-cache/models/{org}/{name}/{commit}/{path}?…&etag="…"
    const cache = /^\/api\/resolve-cache\/models\/([^/]+\/[^/]+)\/([0-9a-f]{40})\/(.+)$/.exec(url.pathname);
    if (cache) {
      const found = findRepo(cache[1]);
      if (!found) return notFound();
      const file = found.repo.files.find((f) => f.path === decodeURIComponent(cache[3]));
      if (!file || ![...found.repo.revisions.values()].includes(cache[2])) return error(404, 'EntryNotFound', 'Entry not found');
      // Without the etag of its query the cache answers, but not as the hub: no X-Repo-Commit.
      const withQuery = url.searchParams.get('etag') === `"${file.gitSha1}"`;
      return serveSmall(file, cache[2], withQuery);
    }

    // /{org}/{name}/resolve/{rev}/{path}
    const resolve = /^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(url.pathname);
    if (resolve) {
      const found = findRepo(resolve[1]);
      if (!found || (found.repo.private && !grants?.includes(found.repo.id))) return notFound();
      const { repo, renamed } = found;
      if (renamed) {
        const to = `/${repo.id}/resolve/${resolve[2]}/${resolve[3]}${url.search}`;
        return send(307, { location: to, 'content-type': 'text/plain; charset=utf-8' }, `Temporary Redirect. Redirecting to ${to}`);
      }
      if (repo.gated && !grants?.includes(repo.id)) {
        return grants === null
          ? error(401, 'GatedRepo', `Access to model ${repo.id} is restricted. You must have access to it and be authenticated to access it. Please log in.`)
          : error(403, 'GatedRepo', `Access to model ${repo.id} is restricted and you are not in the authorized list. Visit https://huggingface.co/${repo.id} to ask for access.`);
      }
      const rev = decodeURIComponent(resolve[2]);
      const commit = repo.revisions.get(rev);
      if (commit === undefined) return error(404, 'RevisionNotFound', `Invalid rev id: ${rev}`);
      const path = decodeURIComponent(resolve[3]);
      const file = repo.files.find((f) => f.path === path);
      if (!file) return error(404, 'EntryNotFound', 'Entry not found', { 'x-repo-commit': commit });
      if (file.lfs) {
        const location = cdn!.signedUrl(file, repo.objectId);
        return send(302, {
          location,
          'content-type': 'text/plain; charset=utf-8',
          'cache-control': 'no-cache',
          'accept-ranges': 'bytes',
          'x-repo-commit': commit,
          'x-linked-etag': `"${file.sha256}"`,
          'x-linked-size': String(file.data.length),
          'x-xet-hash': file.xetHash,
          link: `<http://${hubHost}:${port}/api/models/${repo.id}/xet-read-token/${commit}>; rel="xet-auth", <${cdn!.origin}/v1/reconstructions/${file.xetHash}>; rel="xet-reconstruction-info"`,
        }, `Found. Redirecting to ${location}`);
      }
      if (repo.private || repo.gated) return serveSmall(file, commit, true);
      const to = `/api/resolve-cache/models/${repo.id}/${commit}/${encodeURI(path)}?${encodeURIComponent(`/${repo.id}/resolve/${resolve[2]}/${path}`)}=&etag=${encodeURIComponent(`"${file.gitSha1}"`)}`;
      return send(307, { location: to, 'content-type': 'text/plain; charset=utf-8' }, `Temporary Redirect. Redirecting to ${to}`);
    }
    return send(404, { 'content-type': 'text/plain; charset=utf-8' }, 'Not Found');

    function serveSmall(file: StandInFile, commit: string, asHub: boolean): void {
      const base = {
        'content-type': contentType(file.path),
        'accept-ranges': 'bytes',
        'content-disposition': `inline; filename*=UTF-8''${encodeURIComponent(file.path.split('/').pop()!)}; filename="${file.path.split('/').pop()}";`,
        'cache-control': 'public, max-age=31536000, immutable',
        ...(asHub ? { 'x-repo-commit': commit } : {}),
      };
      // CloudFront, in front of the hub, compresses objects of 1,000 to 10,000,000 bytes.
      const gzip = /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? '')) && file.data.length >= 1000 && file.data.length <= 10_000_000 && !file.lfs;
      if (gzip) {
        // Compressed: a weak ETag, chunked, no Content-Length; Range is ignored.
        return send(200, { ...base, 'content-encoding': 'gzip', etag: `W/"${file.gitSha1}"`, 'transfer-encoding': 'chunked' }, gzipSync(file.data));
      }
      const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
      if (range) {
        const start = Number(range[1]);
        if (start >= file.data.length) return send(416, { ...base, 'content-range': `bytes */${file.data.length}` });
        return send(206, { ...base, etag: `"${file.gitSha1}"`, 'content-range': `bytes ${start}-${file.data.length - 1}/${file.data.length}` }, file.data.subarray(start));
      }
      return send(200, { ...base, etag: `"${file.gitSha1}"` }, file.data);
    }
  });
  const port = await listen(server, hubHost);
  cdn = await startCdn(opts.cdnHost ?? '127.0.0.2', () => repos.flatMap((r) => r.files), faults, (r) => requests.push(r));
  const closeHub = closer(server);
  return {
    url: `http://${hubHost}:${port}`,
    host: `${hubHost}:${port}`,
    cdnOrigin: cdn.origin,
    repos,
    commit: repos[0].commit,
    files: repos[0].files,
    requests,
    faults,
    async startMirror(host = '127.0.0.3') {
      const mirror = createServer((req, res) => {
        const u = new URL(req.url ?? '/', 'http://x');
        requests.push({ server: 'mirror', method: req.method ?? '', path: u.pathname, query: u.search, range: req.headers.range, authorization: req.headers.authorization, acceptEncoding: req.headers['accept-encoding'] });
        const to = `http://${hubHost}:${port}${u.pathname}${u.search}`;
        res.writeHead(308, { location: to, 'content-type': 'text/plain; charset=utf-8' });
        res.end(req.method === 'HEAD' ? undefined : `Permanent Redirect. Redirecting to ${to}`);
      });
      const mport = await listen(mirror, host);
      return { url: `http://${host}:${mport}`, close: closer(mirror) };
    },
    async close() {
      await closeHub();
      await cdn!.close();
    },
  };
}
