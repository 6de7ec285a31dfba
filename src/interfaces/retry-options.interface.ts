/**
 * Exponential backoff with jitter; the plan is stored in the outbox row (`next_attempt_at`),
 * so it survives restarts. The defaults span about three days (14 attempts).
 *
 * @publicApi
 */
export interface RetryOptions {
  /** Attempts before the postback is dead-lettered. @default 14 */
  maxAttempts?: number;
  /** Delay after the first failure. @default 10000 (10 s) */
  initialDelayMs?: number;
  /** Growth of the delay per attempt. @default 3 */
  multiplier?: number;
  /** Longest delay between two attempts. @default 43200000 (12 h) */
  maxDelayMs?: number;
  /** Random spread around each delay, as a fraction (0.2 = ±20 %), so failures do not retry in step. @default 0.2 */
  jitter?: number;
  /** Longest wait a `Retry-After` header may ask for. @default 3600000 (1 h) */
  retryAfterCapMs?: number;
  /**
   * Attempts a postback gets when the tracker refuses it outright (a 4xx other than 408, 425
   * and 429, or a 2xx whose body does not report success) before it is dead-lettered; 1 to 3.
   * More than 1 only helps with trackers that refuse a click ID they have not yet recorded.
   * @default 1
   */
  permanentFailureAttempts?: number;
  /**
   * Longest a postback is retried, from the conversion's acceptance: an attempt that fails
   * past it, or whose next attempt would fall past it, dead-letters the postback ("past the
   * max age"), however many attempts are left. Bounds delivery after a long outage of the
   * agent itself, and can stop retries before a network's click window closes.
   * @default the schedule's span (every delay at its longest, a `Retry-After` at its cap
   * included) plus an hour: about 3.7 days
   */
  maxAgeMs?: number;
}
