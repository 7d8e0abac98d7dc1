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
  invalid_input: { status: 400, type: 'invalid_request_error' },
  too_large: { status: 413, type: 'invalid_request_error' },
  overloaded: { status: 429, type: 'rate_limit_error' },
  unavailable: { status: 503, type: 'service_unavailable' },
  cancelled: { status: 499, type: 'invalid_request_error' },
};

/** Where a route's body holds what the door's errors point at. */
export interface BodyFields {
  /** The inputs ("input", "inputs", "inputs.sentences", "ids"). */
  inputs: string;
  prompt: string;
  instruction: string;
}

/** Options every route that takes them names alike. */
const SAME_ON_EVERY_ROUTE = { dimensions: 'dimensions', dtype: 'output_dtype', normalize: 'normalize' } as const;

export const TEI_FIELDS: BodyFields = { inputs: 'inputs', prompt: 'prompt_name', instruction: 'instruction' };

/**
 * The HTTP error for a core error, its field turned into the body's path ("inputs.3.7") and,
 * for an input, its label in the message ("inputs[3][7] is token id …"); anything else is
 * returned as it is.
 */
export function fromServiceError(e: unknown, fields: BodyFields = TEI_FIELDS): unknown {
  if (!(e instanceof ServiceError)) return e;
  const { status, type } = BY_KIND[e.kind];
  let param: string | null = null;
  let message = e.message;
  const f = e.field;
  if (f !== undefined && 'option' in f) param = f.option === 'prompt' || f.option === 'instruction' ? fields[f.option] : SAME_ON_EVERY_ROUTE[f.option];
  else if (f !== undefined) {
    const at = [f.input, f.token].filter((x): x is number => x !== undefined);
    param = [fields.inputs, ...at].join('.');
    if (e.kind === 'invalid_input' && at.length > 0) message = `${fields.inputs}${at.map((i) => `[${i}]`).join('')} ${message}`;
  }
  return new ApiError(status, message, type, e.code, param, e.retryAfterS);
}
