// Reading request bodies within limits and writing JSON answers, errors included.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApiError } from './api-error.js';

export async function readJson(req: IncomingMessage, maxBytes: number): Promise<unknown> {
  const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  if (type !== 'application/json') {
    throw new ApiError(415, `the body must be application/json (got ${type || 'no content type'})`, 'invalid_request_error', 'unsupported_media_type');
  }
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (declared > maxBytes) throw new ApiError(413, `the body is ${declared} bytes, over the limit of ${maxBytes} bytes (--max-body-bytes)`, 'invalid_request_error', 'body_too_large');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > maxBytes) throw new ApiError(413, `the body is over the limit of ${maxBytes} bytes (--max-body-bytes)`, 'invalid_request_error', 'body_too_large');
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks, size).toString('utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new ApiError(400, `the body is not valid JSON: ${(e as Error).message}`, 'invalid_request_error', 'invalid_json');
  }
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const payload = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload), ...headers });
  res.end(payload);
}

export function sendError(res: ServerResponse, e: ApiError, requestId: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const headers: Record<string, string> = {};
  if (e.retryAfter !== undefined) headers['retry-after'] = String(e.retryAfter);
  sendJson(res, e.status, { error: { message: e.message, type: e.type, code: e.code, param: e.param, request_id: requestId } }, headers);
}
