// Bearer-token check in constant time: both sides are hashed first, so neither the
// length nor the content of the configured key leaks through timing.

import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { ApiError } from '../core/errors.js';

export class ApiKeyCheck {
  private readonly digest: Buffer;

  constructor(key: string) {
    this.digest = createHash('sha256').update(key).digest();
  }

  check(headers: IncomingHttpHeaders): void {
    const header = headers.authorization ?? '';
    const m = /^Bearer (.+)$/i.exec(header);
    const given = createHash('sha256').update(m ? m[1] : `\u0000${header}`).digest();
    if (!timingSafeEqual(given, this.digest)) {
      throw new ApiError(401, m ? 'invalid API key' : 'missing API key: send "Authorization: Bearer <key>"', 'authentication_error', 'invalid_api_key');
    }
  }
}
