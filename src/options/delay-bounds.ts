import type { ResolvedOutboxOptions } from './resolved-options.js';

/**
 * A cap below the delay it caps: the backoff or the breaker's cooldown would be cut to the
 * cap from the start, so the first delay given is never the one used. Checked once the
 * defaults and a tracker's retry are merged, where the two values meet.
 */
export function retryBoundsProblem(
  retry: { initialDelayMs: number; maxDelayMs: number },
  at: string,
): string | undefined {
  return retry.maxDelayMs < retry.initialDelayMs
    ? `${at}.maxDelayMs (${retry.maxDelayMs}) must not be below initialDelayMs (${retry.initialDelayMs}): raise maxDelayMs or lower initialDelayMs`
    : undefined;
}

export function cooldownBoundsProblem(
  breaker: ResolvedOutboxOptions['circuitBreaker'],
): string | undefined {
  return breaker.maxCooldownMs < breaker.cooldownMs
    ? `outbox.circuitBreaker.maxCooldownMs (${breaker.maxCooldownMs}) must not be below cooldownMs (${breaker.cooldownMs}): raise maxCooldownMs or lower cooldownMs`
    : undefined;
}
