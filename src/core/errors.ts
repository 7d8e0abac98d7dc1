// Errors that end a request with a specific HTTP status. Everything else is a 500 with a
// request id and no details (the details go to the log).

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
