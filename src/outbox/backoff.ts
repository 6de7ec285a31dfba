import type { ResolvedRetry } from '../options/resolved-options.js';

/**
 * Delay before the next attempt after `attempts` failed ones: exponential growth capped at
 * `maxDelayMs`, spread by ±`jitter` so that postbacks failing together do not retry together.
 */
export function backoffDelay(
  attempts: number,
  retry: ResolvedRetry,
  random: () => number = Math.random,
): number {
  const exponential = retry.initialDelayMs * retry.multiplier ** Math.max(0, attempts - 1);
  const capped = Math.min(retry.maxDelayMs, exponential);
  const spread = 1 + retry.jitter * (2 * random() - 1);
  return Math.max(0, Math.round(capped * spread));
}

/**
 * Milliseconds a `Retry-After` header asks to wait (seconds or an HTTP date), capped;
 * undefined when absent or unreadable.
 */
export function retryAfterDelay(
  header: string | undefined,
  now: number,
  capMs: number,
): number | undefined {
  if (!header) return undefined;
  const trimmed = header.trim();
  const ms = /^\d+$/.test(trimmed) ? Number(trimmed) * 1000 : Date.parse(trimmed) - now;
  if (!Number.isFinite(ms)) return undefined;
  return Math.min(capMs, Math.max(0, ms));
}

/**
 * How long the schedule retries at most: the sum of its delays between the first attempt and
 * the last, each at its longest (full jitter, or a `Retry-After` at its cap if that is longer).
 */
export function scheduleSpanMs(retry: ResolvedRetry): number {
  let span = 0;
  for (let attempts = 1; attempts < retry.maxAttempts; attempts++) {
    const delay = Math.min(
      retry.maxDelayMs,
      retry.initialDelayMs * retry.multiplier ** (attempts - 1),
    );
    span += Math.max(delay * (1 + retry.jitter), retry.retryAfterCapMs);
  }
  return Math.round(span);
}

/**
 * Added to the schedule's span for the default max age: time between attempts that is not a
 * delay of the schedule (the attempts themselves, the flush interval, circuit-breaker pauses).
 */
const SPAN_MARGIN_MS = 60 * 60 * 1000;

/** How long after its conversion a postback is still retried (see `RetryOptions.maxAgeMs`). */
export function maxRetryAgeMs(retry: ResolvedRetry): number {
  return retry.maxAgeMs ?? scheduleSpanMs(retry) + SPAN_MARGIN_MS;
}
