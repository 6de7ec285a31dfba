import type { EntityManager, SelectQueryBuilder } from 'typeorm';

import { Postback } from './postback.entity.js';

/** The two states a claim takes rows from: pending ones, and in-flight ones whose lease ran out. */
export type ClaimableState = Extract<Postback['state'], 'pending' | 'in_flight'>;

export interface DueQuery {
  state: ClaimableState;
  now: number;
  limit: number;
  /** Trackers not to claim for now (circuit open, or no free send slot). */
  skip?: string[];
  /** Only rows due at or after this instant (`from`), or strictly before it (`before`). */
  from?: number;
  before?: number;
}

/**
 * The claim's SELECT for one state: due rows in due order, leaving out reversals whose
 * original is still on its way and the trackers in `skip`.
 *
 * One state per query, on purpose: with `state IN ('pending', 'in_flight')` the index on
 * (state, next_attempt_at) yields two ranges that the database must merge and sort, so with a
 * backlog of a million due rows every claim would sort a million rows to return fifty. With
 * one state the index returns them already in due order and the scan stops at the limit.
 * The benchmark measures these very queries.
 */
export function duePostbacksQuery(
  manager: EntityManager,
  { state, now, limit, skip = [], from, before }: DueQuery,
): SelectQueryBuilder<Postback> {
  // The table as the host's DataSource names it (entityPrefix, schema).
  const { driver } = manager.connection;
  const table = manager
    .getRepository(Postback)
    .metadata.tablePath.split('.')
    .map((part) => driver.escape(part))
    .join('.');
  const query = manager
    .createQueryBuilder(Postback, 'p')
    .where('p.state = :state', { state })
    .andWhere('p.next_attempt_at <= :now', { now })
    // A reversal waits while its original postback is still on its way.
    .andWhere(
      `(p.after_postback_id IS NULL OR NOT EXISTS (SELECT 1 FROM ${table} o WHERE o.id = p.after_postback_id AND o.state IN ('pending', 'in_flight')))`,
    )
    .orderBy('p.next_attempt_at', 'ASC')
    .limit(limit);
  if (skip.length > 0) query.andWhere('p.tracker NOT IN (:...skip)', { skip });
  if (from !== undefined) query.andWhere('p.next_attempt_at >= :from', { from });
  if (before !== undefined) query.andWhere('p.next_attempt_at < :before', { before });
  return query;
}
