// What a route is: a method, a handler, and whether it is open without the API key.

import type { IncomingMessage, ServerResponse } from 'node:http';

export interface RouteContext {
  req: IncomingMessage;
  res: ServerResponse;
  signal: AbortSignal;
  /** Facts for the request log line. */
  note: Record<string, unknown>;
}

export type Handler = (ctx: RouteContext) => Promise<void>;

export interface Route {
  method: 'GET' | 'POST';
  handler: Handler;
  /** Open without the API key. */
  open?: boolean;
}
