// The node:http server: timeouts that cut slow or endless requests, a JSON 400 for requests
// that are not HTTP, and the port bound before anything else happens.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ServeConfig } from '../settings/serve.js';

export async function listen(cfg: ServeConfig, handle: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ server: Server; address: AddressInfo }> {
  const server = createServer({
    headersTimeout: cfg.headersTimeoutMs,
    requestTimeout: cfg.requestTimeoutMs,
    // Node checks those timeouts only this often (30 s by default): slow-header clients
    // would otherwise hold sockets far longer than the limits say.
    connectionsCheckingInterval: Math.min(1000, cfg.headersTimeoutMs),
    // Longer than the proxies in front (Fly's keeps connections ~60 s), so they close first.
    keepAliveTimeout: 75_000,
  }, handle);
  server.on('clientError', (err, socket) => {
    if (socket.writable) {
      const body = JSON.stringify({ error: { message: `bad request: ${err.message}`, type: 'invalid_request_error', code: 'bad_http', param: null } });
      socket.end(`HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
    } else socket.destroy();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(cfg.port, cfg.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return { server, address: server.address() as AddressInfo };
}
