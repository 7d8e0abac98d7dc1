// A stand-in for the Hugging Face hub on loopback, speaking the routes the downloader uses:
// the model-info API, `resolve` with the hub's headers (LFS files answer with a redirect and
// X-Linked-Etag/X-Linked-Size, small files with their git blob SHA-1 as ETag) and a "CDN"
// that honours Range. Faults can be switched on to test recovery.

import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, relative } from 'node:path';

export interface HubFile {
  path: string;
  data: Buffer;
  lfs: boolean;
  sha256: string;
  gitSha1: string;
}

export interface Faults {
  /** Close the connection after this many body bytes of the next CDN download. */
  dropAfter?: number;
  /** Serve one flipped byte in CDN downloads. */
  corrupt?: boolean;
  /** Send CDN bodies at about this many bytes per second. */
  bytesPerSecond?: number;
}

export interface StandInHub {
  url: string;
  commit: string;
  files: HubFile[];
  requests: Array<{ method: string; url: string; range?: string }>;
  faults: Faults;
  close(): Promise<void>;
}

function walk(dir: string, root = dir): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (name.startsWith('ortos-prepared')) return [];
    return statSync(p).isDirectory() ? walk(p, root) : [relative(root, p)];
  });
}

export async function startStandInHub(repo: string, folder: string, commit = 'c0ffee'.padEnd(40, '0')): Promise<StandInHub> {
  const files: HubFile[] = walk(folder).map((path) => {
    const data = readFileSync(join(folder, path));
    return {
      path,
      data,
      lfs: data.length > 1_000_000,
      sha256: createHash('sha256').update(data).digest('hex'),
      gitSha1: createHash('sha1').update(`blob ${data.length}\0`).update(data).digest('hex'),
    };
  });
  const requests: StandInHub['requests'] = [];
  const faults: Faults = {};
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://x');
    requests.push({ method: req.method ?? '', url: url.pathname, range: req.headers.range });
    const send = (status: number, headers: Record<string, string | number>, body?: Buffer | string): void => {
      res.writeHead(status, headers);
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    if (url.pathname === `/api/models/${repo}/revision/main` || url.pathname === `/api/models/${repo}/revision/${commit}`) {
      send(200, { 'content-type': 'application/json' }, JSON.stringify({ id: repo, sha: commit, siblings: files.map((f) => ({ rfilename: f.path })) }));
      return;
    }
    const resolve = new RegExp(`^/${repo}/resolve/(main|${commit})/(.+)$`).exec(url.pathname);
    if (resolve) {
      const f = files.find((x) => x.path === decodeURIComponent(resolve[2]));
      if (!f) return send(404, { 'x-error-code': 'EntryNotFound' }, 'not found');
      if (f.lfs) {
        return send(302, { location: `/cdn/${f.sha256}`, 'x-linked-etag': `"${f.sha256}"`, 'x-linked-size': f.data.length, 'x-repo-commit': commit, etag: `"${f.gitSha1}"` });
      }
      return send(200, { etag: `"${f.gitSha1}"`, 'x-repo-commit': commit, 'content-length': f.data.length }, f.data);
    }
    const cdn = /^\/cdn\/([0-9a-f]{64})$/.exec(url.pathname);
    const f = cdn ? files.find((x) => x.sha256 === cdn[1]) : undefined;
    if (!f) return send(404, {}, 'not found');
    let start = 0;
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    if (m) start = Number(m[1]);
    if (start >= f.data.length) return send(416, { 'content-range': `bytes */${f.data.length}` });
    let body = f.data.subarray(start);
    if (faults.corrupt) {
      body = Buffer.from(body);
      body[body.length >> 1] ^= 0xff;
    }
    res.writeHead(m ? 206 : 200, {
      'content-length': body.length,
      ...(m ? { 'content-range': `bytes ${start}-${f.data.length - 1}/${f.data.length}` } : {}),
    });
    if (faults.dropAfter !== undefined) {
      const cut = faults.dropAfter;
      faults.dropAfter = undefined;
      res.write(body.subarray(0, cut), () => res.destroy());
      return;
    }
    if (faults.bytesPerSecond !== undefined) {
      const step = Math.max(1, Math.floor(faults.bytesPerSecond / 20));
      let at = 0;
      const timer = setInterval(() => {
        if (res.destroyed) return clearInterval(timer);
        res.write(body.subarray(at, at + step));
        at += step;
        if (at >= body.length) {
          clearInterval(timer);
          res.end();
        }
      }, 50);
      res.on('close', () => clearInterval(timer));
      return;
    }
    res.end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    commit,
    files,
    requests,
    faults,
    close: () => new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    }),
  };
}
