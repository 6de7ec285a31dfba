import type { ResolvedTracker } from '../options/resolved-options.js';
import { backoffDelay, maxRetryAgeMs, retryAfterDelay } from './backoff.js';
import { POSTBACK_PRESETS } from '../postback/presets/index.js';
import type { RetryableRefusal } from '../postback/presets/postback-preset.interface.js';
import type { SendResult } from './postback-http.client.js';
import { GAVE_UP } from '../errors/messages.js';

/** What to do with a postback after an attempt. */
export type DeliveryVerdict =
  | { outcome: 'delivered' }
  | { outcome: 'retry'; reason: string; nextAttemptAt: number }
  | { outcome: 'dead'; reason: string };

/** Statuses that say "try again later"; other 4xx say "this request will never work". */
const RETRYABLE_STATUS = new Set([408, 425, 429]);

/**
 * Classifies an attempt: 2xx (and the body marker, where the tracker needs one) is delivered;
 * timeouts, connection errors, 3xx, 408, 425, 429 and 5xx are retried on the tracker's backoff
 * schedule (or after `Retry-After`, capped); a refusal (any other 4xx, or a body without the
 * success marker) is dead once `permanentFailureAttempts` is reached. A retry past the last
 * attempt, or past the max age counted from `createdAt` (the conversion's acceptance), is
 * dead, with the last reason. A refusal the tracker's preset lists as "not yet" (`notYet`) is
 * retried like a 5xx until its own bound, counted from `notYetSince` (when this run of the
 * postback first met that refusal; see `refusedSince`), then dead.
 */
export function judgeAttempt(
  result: SendResult,
  attempt: number,
  tracker: ResolvedTracker,
  now: number,
  createdAt = now,
  notYetSince = now,
): DeliveryVerdict {
  const retry = tracker.retry;
  let verdict = classify(result, tracker);
  if (verdict.outcome === 'delivered') return verdict;
  const notYet = verdict.outcome === 'dead' ? notYetRefusal(result, tracker) : undefined;
  if (notYet) {
    const reason = notYetReason(result, notYet);
    if (now - Math.min(notYetSince, now) >= notYet.forMs) {
      return {
        outcome: 'dead',
        reason: `${reason}, still ${duration(notYet.forMs)} after the first such answer; replay it once that is fixed`,
      };
    }
    verdict = { outcome: 'retry', reason };
  }
  if (verdict.outcome === 'dead' && attempt >= retry.permanentFailureAttempts) return verdict;
  if (attempt >= retry.maxAttempts) {
    return {
      outcome: 'dead',
      reason: GAVE_UP(attempt, verdict.reason),
    };
  }
  const delay =
    retryAfterDelay(result.retryAfter, now, retry.retryAfterCapMs) ?? backoffDelay(attempt, retry);
  // At least 1 ms, so a `Retry-After: 0` cannot make the same flush claim the row again.
  const nextAttemptAt = now + Math.max(1, delay);
  const maxAgeMs = maxRetryAgeMs(retry);
  if (nextAttemptAt > createdAt + maxAgeMs) {
    return {
      outcome: 'dead',
      reason: `past the max age: no retry later than ${duration(maxAgeMs)} after the conversion (retry.maxAgeMs); ${GAVE_UP(attempt, verdict.reason)}`,
    };
  }
  // Said only of a retry: once the attempts or the max age run out first, it would be untrue.
  const until = notYet
    ? `; retried until ${duration(notYet.forMs)} after the first such answer`
    : '';
  return { outcome: 'retry', reason: `${verdict.reason}${until}`, nextAttemptAt };
}

/**
 * The reason a "not yet" refusal is recorded with; `refusedSince` finds the first attempt of
 * a run by it, so a retry's reason only adds to it.
 */
export function notYetReason(result: SendResult, rule: RetryableRefusal): string {
  return `HTTP ${result.status}: ${rule.why}`;
}

/** `ms` for a reader: seconds, minutes, hours or days. */
function duration(ms: number): string {
  const units: [number, string][] = [
    [86_400_000, 'days'],
    [3_600_000, 'hours'],
    [60_000, 'minutes'],
  ];
  for (const [size, name] of units) {
    if (ms >= 2 * size) return `${Number((ms / size).toFixed(1))} ${name}`;
  }
  return `${Math.round(ms / 1000)} s`;
}

type Classification =
  | { outcome: 'delivered' }
  | { outcome: 'retry'; reason: string }
  | { outcome: 'dead'; reason: string };

function classify(result: SendResult, tracker: ResolvedTracker): Classification {
  const status = result.status;
  if (status === undefined) return { outcome: 'retry', reason: result.error ?? 'no response' };
  if (status >= 200 && status < 300) {
    const marker = tracker.successBodyMatch;
    if (marker === undefined || bodyMatches(result.body ?? '', marker)) {
      return { outcome: 'delivered' };
    }
    return { outcome: 'dead', reason: `HTTP ${status}, but the body does not report success` };
  }
  if (status >= 300 && status < 400) {
    return {
      outcome: 'retry',
      // Where to, without the query: a redirect usually keeps it, token included.
      reason: `HTTP ${status} redirect${result.location ? ` to ${result.location.split(/[?#]/)[0]}` : ''} (never followed)`,
    };
  }
  if (status >= 400 && status < 500 && !RETRYABLE_STATUS.has(status)) {
    return { outcome: 'dead', reason: `HTTP ${status}: the tracker refused the postback` };
  }
  return { outcome: 'retry', reason: `HTTP ${status}` };
}

/** The preset's "not yet" refusal this answer is, if any (Dub's 404 for a lead not yet ingested). */
export function notYetRefusal(
  result: SendResult,
  tracker: ResolvedTracker,
): RetryableRefusal | undefined {
  const rules = tracker.preset ? POSTBACK_PRESETS.get(tracker.preset)?.notYet : undefined;
  return rules?.find(
    (rule) => rule.status === result.status && bodyMatches(result.body ?? '', rule.bodyMatch),
  );
}

function bodyMatches(body: string, marker: string | RegExp): boolean {
  if (typeof marker === 'string') return body.includes(marker);
  // A fresh match every time: a /g or /y pattern's lastIndex would fail every other body.
  marker.lastIndex = 0;
  return marker.test(body);
}

/** The reason an expired lease on a row that was being sent counts as an attempt. */
export const LEASE_EXPIRED_WHILE_SENDING =
  'the worker sending it stopped before recording an outcome (its lease expired)';

/**
 * What an expired lease on a row whose request had started counts as: it may have reached the
 * tracker, so it is an attempt, and the last one allowed makes the postback dead (one that
 * brings its worker down every time ends dead instead of looping forever). A row never marked
 * as sending is no attempt at all: a lost claim (see `settleAbandoned`).
 */
export function judgeExpiredLease(
  attempts: number,
  maxAttempts: number,
): { attempt: number; outcome: 'retry' | 'dead'; lastError: string } {
  const attempt = attempts + 1;
  const dead = attempt >= maxAttempts;
  return {
    attempt,
    outcome: dead ? 'dead' : 'retry',
    lastError: dead ? GAVE_UP(attempt, LEASE_EXPIRED_WHILE_SENDING) : LEASE_EXPIRED_WHILE_SENDING,
  };
}
