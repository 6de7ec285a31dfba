import type { RetryOptions } from '../interfaces/index.js';

/**
 * Delay before the next attempt after `attempts` failed ones: exponential growth capped at
 * `maxDelayMs`, spread by ±`jitter` so that postbacks failing together do not retry together.
 */
export function backoffDelay(
  attempts: number,
  retry: Required<RetryOptions>,
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
