import { placeholders } from '../database/raw-sql.js';
import type { Postback } from './postback.entity.js';

/** The two states a claim takes rows from: pending ones, and in-flight ones whose lease ran out. */
export type ClaimableState = Extract<Postback['state'], 'pending' | 'in_flight'>;

export interface DueQuery {
  state: ClaimableState;
  now: number;
  limit: number;
  /** Trackers not to claim for now (circuit open, or no free send slot). */
  skip?: string[];
  /** Only rows due at or after this instant (see `OutboxStore.pendingFloor`). */
  from?: number;
}

export interface DueSelect {
  /** The select list, over the table aliased `"p"`. */
  columns: string;
  /** `FOR UPDATE SKIP LOCKED`: competing instances skip each other's rows, never wait. */
  lock: boolean;
}

/**
 * The claim's SELECT for one state, in raw-sql's dialect (`"identifiers"`, `:parameters`,
 * which it adds to `parameters`): due rows in due order, leaving out reversals whose original
 * postback is still on its way and the trackers in `skip`. Every value is bound, so each
 * shape of the statement is prepared once (the query builder inlined numbers on SQLite).
 *
 * One state per query, on purpose: with `state IN ('pending', 'in_flight')` the index on
 * (state, next_attempt_at) yields two ranges that the database must merge and sort, so with a
 * backlog of a million due rows every claim would sort a million rows to return fifty. With
 * one state the index returns them already in due order and the scan stops at the limit.
 * The benchmark measures this very text.
 */
export function dueSelectSql(
  table: string,
  { state, now, limit, skip = [], from }: DueQuery,
  { columns, lock }: DueSelect,
  parameters: Record<string, unknown>,
): string {
  Object.assign(parameters, { dueState: state, dueNow: now, dueLimit: limit });
  Object.assign(parameters, { originPending: 'pending', originInFlight: 'in_flight' });
  const where = [`"p"."state" = :dueState`, `"p"."next_attempt_at" <= :dueNow`];
  if (from !== undefined) {
    where.push(`"p"."next_attempt_at" >= :dueFrom`);
    parameters.dueFrom = from;
  }
  // A reversal waits while its original postback is still on its way.
  where.push(
    `("p"."after_postback_id" IS NULL OR NOT EXISTS (SELECT 1 FROM "${table}" "o" WHERE "o"."id" = "p"."after_postback_id" AND "o"."state" IN (:originPending, :originInFlight)))`,
  );
  if (skip.length > 0) {
    where.push(`"p"."tracker" NOT IN (${placeholders('skip', skip, parameters)})`);
  }
  return (
    `SELECT ${columns} FROM "${table}" "p" WHERE ${where.join(' AND ')} ` +
    `ORDER BY "p"."next_attempt_at" ASC LIMIT :dueLimit${lock ? ' FOR UPDATE SKIP LOCKED' : ''}`
  );
}
