// Browser access for the origins --cors-origins names (or any, with "*"). Answers preflight
// requests itself; returns true when it did.

import type { IncomingMessage, ServerResponse } from 'node:http';

export function applyCors(req: IncomingMessage, res: ServerResponse, origins: ReadonlySet<string>): boolean {
  const origin = req.headers.origin;
  if (origin === undefined || !(origins.has('*') || origins.has(origin))) return false;
  res.setHeader('access-control-allow-origin', origins.has('*') ? '*' : origin);
  res.setHeader('vary', 'origin');
  if (req.method !== 'OPTIONS') return false;
  res.writeHead(204, {
    'access-control-allow-methods': 'GET, POST, OPTIONS',
    'access-control-allow-headers': 'authorization, api-key, content-type, x-request-id, cache-control',
    'access-control-max-age': '600',
  });
  res.end();
  return true;
}
