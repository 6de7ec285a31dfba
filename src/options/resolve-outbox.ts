import type { OutboxOptions } from '../interfaces/index.js';
import { cooldownBoundsProblem, retryBoundsProblem } from './delay-bounds.js';
import { DEFAULT_RETRY, type ResolvedOutboxOptions } from './resolved-options.js';

/** `outbox` with its defaults, and the rules that tie two of its values. */
export function resolveOutbox(
  outbox: OutboxOptions,
  problem: (text: string) => void,
): ResolvedOutboxOptions {
  const resolved: ResolvedOutboxOptions = {
    enabled: outbox.enabled ?? true,
    flushIntervalMs: outbox.flushIntervalMs ?? 5_000,
    batchSize: outbox.batchSize ?? 500,
    concurrency: outbox.concurrency ?? 8,
    timeoutMs: outbox.timeoutMs ?? 15_000,
    leaseMs: outbox.leaseMs ?? 120_000,
    responseExcerptBytes: outbox.responseExcerptBytes ?? 1024,
    shutdownGraceMs: outbox.shutdownGraceMs ?? 10_000,
    retry: { ...DEFAULT_RETRY, ...outbox.retry },
    circuitBreaker: {
      failureThreshold: 5,
      cooldownMs: 30_000,
      maxCooldownMs: 10 * 60_000,
      ...outbox.circuitBreaker,
    },
  };
  if (resolved.leaseMs <= resolved.timeoutMs) {
    problem('outbox.leaseMs must be longer than timeoutMs, or a lease could expire during a send');
  }
  for (const text of [
    retryBoundsProblem(resolved.retry, 'outbox.retry'),
    cooldownBoundsProblem(resolved.circuitBreaker),
  ]) {
    if (text) problem(text);
  }
  return resolved;
}
