// The core's errors, in its own terms: what went wrong, not how a protocol says so. The HTTP
// layer maps each kind to a status once (server/api-error.ts `fromServiceError`), as
// text-embeddings-inference maps its core error enum in its router.

export type ServiceErrorKind =
  /** The service has more work than it takes now: try again after `retryAfterS`. */
  | 'overloaded'
  /** The model is not there (still loading, or failed to load). */
  | 'unavailable'
  /** The caller went away before its work ran. */
  | 'cancelled';

export class ServiceError extends Error {
  constructor(
    readonly kind: ServiceErrorKind,
    message: string,
    /** A stable name for the case, for clients and logs ("queue_full", "model_loading"). */
    readonly code: string,
    /** Seconds after which trying again makes sense, where that is known. */
    readonly retryAfterS?: number,
  ) {
    super(message);
    this.name = 'ServiceError';
  }
}
