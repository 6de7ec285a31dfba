/**
 * The database cannot take a write now: a full disk, an I/O error, a write lock held by another
 * process, a server that does not answer. Nothing was acknowledged, so the caller can safely
 * try again; the agent answers it with 503 and `Retry-After: retryAfterSeconds`.
 */
export class DatabaseUnavailableError extends Error {
  constructor(
    readonly reason: string,
    readonly retryAfterSeconds = 5,
    options?: ErrorOptions,
  ) {
    super(`The postback database cannot take writes now: ${reason}`, options);
    this.name = 'DatabaseUnavailableError';
  }
}
