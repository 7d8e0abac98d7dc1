// The stand-in for the storage the hub's 302 points LFS/Xet files to (cas-bridge.xethub.hf.co,
// an S3-style presigned URL: see the headers posted in padeoe/hf-mirror-site#50): another origin,
// a signed query that changes with every redirect and expires, Range served as 206 (416 past the
// end), and a request that also carries Authorization refused the way S3 refuses a second auth
// mechanism. Faults make it drop, stall, corrupt, throttle or ignore Range (CloudFront answers a
// Range with 200 when it compresses; huggingface_hub `http_get` handles that case).

import { createHmac, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { StandInFile } from './repos.js';

export interface CdnFaults {
  /** Close the connection after this many body bytes of the next download. */
  dropAfter?: number;
  /** Send this many body bytes of the next download, then nothing, with the connection left open. */
  stallAfter?: number;
  /** Serve one flipped byte. */
  corrupt?: boolean;
  /** Send bodies at about this many bytes per second. */
  bytesPerSecond?: number;
  /** Answer Range requests with the whole file (200). */
  ignoreRange?: boolean;
  /** Treat the next signed URL as expired (403 AccessDenied). */
  expireNext?: boolean;
}

export interface RecordedRequest {
  server: 'hub' | 'cdn' | 'mirror';
  method: string;
  path: string;
  query: string;
  range?: string;
  authorization?: string;
  acceptEncoding?: string;
}

const SECRET = 'stand-in-cdn-secret';
const EXPIRES_S = 3600;

function amzDate(d: Date): string {
  return d.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}

function sign(path: string, date: string, expires: string, token: string): string {
  return createHmac('sha256', SECRET).update(`${path}\n${date}\n${expires}\n${token}`).digest('hex');
}

function s3Error(res: ServerResponse, status: number, code: string, message: string): void {
  const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message></Error>`;
  res.writeHead(status, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

export interface StandInCdn {
  origin: string;
  /** A fresh signed URL for a file (what the hub's 302 points to). */
  signedUrl(file: StandInFile, objectId: string): string;
  close(): Promise<void>;
}

export async function startCdn(host: string, files: () => StandInFile[], faults: CdnFaults, record: (r: RecordedRequest) => void): Promise<StandInCdn> {
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://x');
    record({ server: 'cdn', method: req.method ?? '', path: url.pathname, query: url.search, range: req.headers.range, authorization: req.headers.authorization, acceptEncoding: req.headers['accept-encoding'] });
    const m = /^\/xet-bridge-us\/[0-9a-f]+\/([0-9a-f]{64})$/.exec(url.pathname);
    const file = m ? files().find((f) => f.xetHash === m[1]) : undefined;
    if (!file) return s3Error(res, 404, 'NoSuchKey', 'The specified key does not exist.');
    if (req.headers.authorization !== undefined) {
      return s3Error(res, 400, 'InvalidArgument', 'Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified');
    }
    const q = url.searchParams;
    const date = q.get('X-Amz-Date') ?? '';
    const expires = q.get('X-Amz-Expires') ?? '';
    if (q.get('X-Amz-Algorithm') !== 'AWS4-HMAC-SHA256' || q.get('X-Amz-Signature') !== sign(url.pathname, date, expires, q.get('X-Amz-Security-Token') ?? '')) {
      return s3Error(res, 403, 'SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided.');
    }
    if (faults.expireNext) {
      faults.expireNext = false;
      return s3Error(res, 403, 'AccessDenied', 'Request has expired');
    }
    const size = file.data.length;
    const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
    const common = {
      'accept-ranges': 'bytes',
      'content-type': 'application/octet-stream',
      // The storage's own ETag is not the file's SHA-256: a client must take that from the hub's 302.
      etag: `"${file.xetHash}"`,
      'content-disposition': `inline; filename*=UTF-8''${encodeURIComponent(file.path.split('/').pop()!)}`,
    };
    let start = 0;
    let partial = false;
    if (range && !faults.ignoreRange) {
      start = Number(range[1]);
      if (start >= size) {
        res.writeHead(416, { ...common, 'content-range': `bytes */${size}` });
        res.end();
        return;
      }
      partial = true;
    }
    let body = file.data.subarray(start);
    if (faults.corrupt) {
      body = Buffer.from(body);
      body[body.length >> 1] ^= 0xff;
    }
    res.writeHead(partial ? 206 : 200, {
      ...common,
      'content-length': body.length,
      ...(partial ? { 'content-range': `bytes ${start}-${size - 1}/${size}` } : {}),
    });
    if (req.method === 'HEAD') return res.end();
    if (faults.dropAfter !== undefined) {
      const cut = faults.dropAfter;
      faults.dropAfter = undefined;
      res.write(body.subarray(0, cut), () => res.destroy());
      return;
    }
    if (faults.stallAfter !== undefined) {
      const cut = faults.stallAfter;
      faults.stallAfter = undefined;
      res.write(body.subarray(0, cut)); // and then nothing: the socket stays open until the client gives up
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
  await new Promise<void>((r) => server.listen(0, host, r));
  const { port } = server.address() as AddressInfo;
  const origin = `http://${host}:${port}`;
  return {
    origin,
    signedUrl(file: StandInFile, objectId: string): string {
      const path = `/xet-bridge-us/${objectId}/${file.xetHash}`;
      const date = amzDate(new Date());
      const expires = String(EXPIRES_S);
      const name = file.path.split('/').pop()!;
      // Temporary credentials: every redirect gets a URL of its own.
      const token = randomBytes(12).toString('base64url');
      const q = new URLSearchParams({
        'X-Amz-Algorithm': 'AWS4-HMAC-SHA256',
        'X-Amz-Content-Sha256': 'UNSIGNED-PAYLOAD',
        'X-Amz-Credential': `cas/${date.slice(0, 8)}/us-east-1/s3/aws4_request`,
        'X-Amz-Date': date,
        'X-Amz-Expires': expires,
        'X-Amz-Security-Token': token,
        'X-Amz-Signature': sign(path, date, expires, token),
        'X-Amz-SignedHeaders': 'host',
        'X-Xet-Cas-Uid': objectId,
        'response-content-disposition': `inline; filename*=UTF-8''${name}; filename="${name}";`,
        'x-id': 'GetObject',
      });
      return `${origin}${path}?${q.toString()}`;
    },
    close: () => new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    }),
  };
}
