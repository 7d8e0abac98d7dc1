// Raw HTTP over a socket, for requests no well-behaved client would send: invalid UTF-8,
// bodies that never end, headers that trickle in.

import { connect } from 'node:net';

export interface RawResponse {
  status: number | null;
  body: string;
  /** Milliseconds until the server answered or closed. */
  ms: number;
  closedByServer: boolean;
}

export function rawRequest(url: string, chunks: Array<Buffer | string>, opts: { gapMs?: number; timeoutMs?: number } = {}): Promise<RawResponse> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const t0 = performance.now();
    const socket = connect(Number(port), hostname);
    let data = '';
    let settled = false;
    const done = (closedByServer: boolean): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      const m = /^HTTP\/1\.1 (\d{3})/.exec(data);
      const body = data.includes('\r\n\r\n') ? data.slice(data.indexOf('\r\n\r\n') + 4) : '';
      resolve({ status: m ? Number(m[1]) : null, body, ms: performance.now() - t0, closedByServer });
    };
    const timer = setTimeout(() => done(false), opts.timeoutMs ?? 10_000);
    socket.on('data', (d) => {
      data += d.toString('utf8');
      // One full answer with a content-length is enough.
      const cl = /content-length: (\d+)/i.exec(data);
      if (cl && data.includes('\r\n\r\n') && Buffer.byteLength(data.slice(data.indexOf('\r\n\r\n') + 4)) >= Number(cl[1])) done(true);
    });
    socket.on('close', () => done(true));
    socket.on('error', () => done(true));
    socket.on('connect', async () => {
      for (const c of chunks) {
        if (settled) return;
        socket.write(c);
        if (opts.gapMs) await new Promise((r) => setTimeout(r, opts.gapMs));
      }
      // No half-close after the request: the server, like nginx, takes a client that closes
      // its side as gone (499) and drops its queued work. Requests say "connection: close".
    });
  });
}

export function jsonRequest(path: string, body: Buffer | string, headers: Record<string, string> = {}): Buffer {
  const payload = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  const head = [`POST ${path} HTTP/1.1`, 'host: x', 'content-type: application/json', `content-length: ${payload.length}`, 'connection: close',
    ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`), '', ''].join('\r\n');
  return Buffer.concat([Buffer.from(head), payload]);
}
