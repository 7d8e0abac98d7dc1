// What a route is: a method, a handler, and whether it is open without the API key.

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { BodyFields } from '../api-error.js';

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
  /** The flag that would open it, for its 401's message. */
  openWith?: string;
  /** Where the body holds what the door's errors point at (default: TEI's names). */
  fields?: BodyFields;
}
