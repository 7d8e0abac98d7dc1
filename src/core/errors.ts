// The core's errors, in its own terms: what went wrong, not how a protocol says so. The HTTP
// layer maps each kind to a status once (server/api-error.ts `fromServiceError`), as
// text-embeddings-inference maps its core error enum in its router.

export type ServiceErrorKind =
  /** Something in the request is wrong (see `field`). */
  | 'invalid_input'
  /** The request is larger than the service takes (too many tokens, an input too long). */
  | 'too_large'
  /** The service has more work than it takes now: try again after `retryAfterS`. */
  | 'overloaded'
  /** The model is not there (still loading, or failed to load). */
  | 'unavailable'
  /** The caller went away before its work ran. */
  | 'cancelled';

/**
 * Which part of a request an error is about, in the door's terms: an input (and a token of
 * it), or a named option. The HTTP layer turns it into the body's path ("inputs.3.7", "input_type").
 */
export type Field = { input?: number; token?: number } | { option: 'prompt' | 'instruction' | 'dimensions' | 'dtype' | 'normalize' };

export class ServiceError extends Error {
  constructor(
    readonly kind: ServiceErrorKind,
    message: string,
    /** A stable name for the case, for clients and logs ("queue_full", "model_loading"). */
    readonly code: string,
    /** Seconds after which trying again makes sense, where that is known. */
    readonly retryAfterS?: number,
    readonly field?: Field,
  ) {
    super(message);
    this.name = 'ServiceError';
  }
}
