// Errors that end a request with a specific HTTP status, in OpenAI's shape. The core's own
// errors become one here, in one place; everything else is a 500 with a request id and no
// details (the details go to the log).

import { ServiceError, type ServiceErrorKind } from '../core/errors.js';

export type ErrorType = 'invalid_request_error' | 'authentication_error' | 'rate_limit_error' | 'service_unavailable' | 'not_found_error' | 'server_error';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly type: ErrorType = 'invalid_request_error',
    readonly code: string | null = null,
    readonly param: string | null = null,
    /** Seconds, for 429 and 503. */
    readonly retryAfter?: number,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export const badRequest = (message: string, param: string | null = null, code = 'invalid_value'): ApiError =>
  new ApiError(400, message, 'invalid_request_error', code, param);

const BY_KIND: Record<ServiceErrorKind, { status: number; type: ErrorType }> = {
  overloaded: { status: 429, type: 'rate_limit_error' },
  unavailable: { status: 503, type: 'service_unavailable' },
  cancelled: { status: 499, type: 'invalid_request_error' },
};

/** The HTTP error for a core error; anything else is returned as it is. */
export function fromServiceError(e: unknown): unknown {
  if (!(e instanceof ServiceError)) return e;
  const { status, type } = BY_KIND[e.kind];
  return new ApiError(status, e.message, type, e.code, null, e.retryAfterS);
}
