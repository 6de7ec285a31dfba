import type { EntityManager, SelectQueryBuilder } from 'typeorm';

import { Postback } from './postback.entity.js';

/**
 * The claim's SELECT: due rows (pending ones whose time has come, and expired leases) in due
 * order, leaving out reversals whose original is still on its way and the trackers in `skip`.
 * One index, (state, next_attempt_at), serves it. The benchmark measures this very query.
 */
export function duePostbacksQuery(
  manager: EntityManager,
  now: number,
  limit: number,
  skip: string[] = [],
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
    .where('p.state IN (:...states)', { states: ['pending', 'in_flight'] })
    .andWhere('p.next_attempt_at <= :now', { now })
    // A reversal waits while its original postback is still on its way.
    .andWhere(
      `(p.after_postback_id IS NULL OR NOT EXISTS (SELECT 1 FROM ${table} o WHERE o.id = p.after_postback_id AND o.state IN ('pending', 'in_flight')))`,
    )
    .orderBy('p.next_attempt_at', 'ASC')
    .limit(limit);
  if (skip.length > 0) query.andWhere('p.tracker NOT IN (:...skip)', { skip });
  return query;
}
