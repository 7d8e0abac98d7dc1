// A request's say over the embedding cache, in HTTP's own words (RFC 9111 5.2.1):
// `Cache-Control: no-store` keeps its inputs out of the cache entirely (not read, not written),
// `no-cache` computes them afresh (and stores the result). Anything else uses it.

import type { IncomingMessage } from 'node:http';
import type { EmbedOptions } from '../../service/embedding-service.js';

export function cacheMode(req: IncomingMessage): NonNullable<EmbedOptions['cache']> {
  const directives = (req.headers['cache-control'] ?? '').toLowerCase().split(',').map((d) => d.trim());
  if (directives.includes('no-store')) return 'bypass';
  if (directives.includes('no-cache')) return 'refresh';
  return 'use';
}

/** The answer's header naming how many inputs the cache answered, when any. */
export const cachedHeader = (cached: number): Record<string, string> => (cached > 0 ? { 'x-cached-inputs': String(cached) } : {});
