// API key check in constant time: the candidate and the key are both hashed first, so neither
// the length nor the content of the configured key leaks through timing. (Whether a key was
// sent at all is the client's own knowledge: that answer need not take the same time.)
//
// Clients send the key three ways, all accepted: "Authorization: Bearer K" (OpenAI's clients),
// "Authorization: K" without the scheme (LlamaIndex's TEI client has sent that), and
// "api-key: K" (Azure OpenAI's clients).

import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { ApiError } from './api-error.js';

export class ApiKeyCheck {
  private readonly digest: Buffer;

  constructor(key: string) {
    this.digest = createHash('sha256').update(key).digest();
  }

  check(headers: IncomingHttpHeaders): void {
    const authorization = headers.authorization;
    const apiKey = headers['api-key'];
    const bearer = /^Bearer\s+(.+)/i.exec(authorization ?? '');
    // The raw value, scheme or not: a client that omits "Bearer " still authenticates.
    const candidate = bearer ? bearer[1] : (authorization ?? (typeof apiKey === 'string' ? apiKey : undefined));
    if (candidate === undefined) {
      throw new ApiError(401, 'missing API key: send "Authorization: Bearer <key>" (or "api-key: <key>")', 'authentication_error', 'invalid_api_key');
    }
    if (!timingSafeEqual(createHash('sha256').update(candidate).digest(), this.digest)) {
      throw new ApiError(401, 'invalid API key', 'authentication_error', 'invalid_api_key');
    }
  }
}
