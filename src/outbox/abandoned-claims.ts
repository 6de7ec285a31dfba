import { type EntityManager, In } from 'typeorm';

import { uuidV7 } from '../common/uuid-v7.js';
import type { ResolvedPostbackOptions } from '../options/resolved-options.js';
import { DeliveryAttempt } from './delivery-attempt.entity.js';
import { judgeExpiredLease, LEASE_EXPIRED_WHILE_SENDING } from './delivery-verdict.js';
import { Postback } from './postback.entity.js';

/** An expired claim as the sweep finds it. */
export interface AbandonedClaim {
  id: string;
  tracker: string;
  attempts: number;
}

/**
 * Settles rows whose lease ran out while in flight: their worker stopped (a crash, a kill)
 * before recording an outcome. A row marked as sending may have reached the tracker: that is
 * an attempt, recorded as such, so a postback that brings its worker down every time ends dead
 * instead of looping forever. A row never marked never left its worker's queue: a lost claim,
 * counted apart (`lost_claims`), never against `maxAttempts`: a postback is dead-lettered for
 * what trackers answered, not for the crashes of its sender. Returns the rows still to send,
 * with their attempts as now counted.
 */
export async function settleAbandoned<T extends AbandonedClaim>(
  manager: EntityManager,
  rows: T[],
  now: number,
  options: ResolvedPostbackOptions,
  /** When the claim's request started, if it did (see SendMarks). */
  sentAt: (row: T) => number | null,
): Promise<T[]> {
  const keep: T[] = [];
  const lost = rows.filter((row) => sentAt(row) === null).map((row) => row.id);
  for (let i = 0; i < lost.length; i += 100) {
    await manager.increment(Postback, { id: In(lost.slice(i, i + 100)) }, 'lostClaims', 1);
  }
  for (const row of rows) {
    const startedAt = sentAt(row);
    if (startedAt === null) {
      keep.push(row);
      continue;
    }
    const maxAttempts =
      options.trackers.get(row.tracker)?.retry.maxAttempts ?? options.outbox.retry.maxAttempts;
    const { attempt, outcome, lastError } = judgeExpiredLease(row.attempts, maxAttempts);
    const dead = outcome === 'dead';
    await manager.insert(DeliveryAttempt, {
      id: uuidV7(now),
      postbackId: row.id,
      attempt,
      startedAt,
      durationMs: 0,
      requestUrl: '',
      statusCode: null,
      outcome,
      error: LEASE_EXPIRED_WHILE_SENDING,
      responseExcerpt: null,
    });
    await manager.update(
      Postback,
      { id: row.id },
      dead
        ? {
            attempts: attempt,
            state: 'dead',
            lastError,
            leaseOwner: null,
            claimToken: null,
            updatedAt: now,
          }
        : { attempts: attempt, lastError },
    );
    if (!dead) keep.push({ ...row, attempts: attempt });
  }
  return keep;
}
