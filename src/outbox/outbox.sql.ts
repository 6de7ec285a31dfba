import type { SqlDialect } from '../database/dialect/sql-dialect.js';
import { placeholders } from '../database/raw-insert.js';
import type { Postback } from './postback.entity.js';

/**
 * Every statement the outbox's claims and settlements write by hand, in raw-sql's neutral
 * text (`"identifiers"`, `:parameters`, added to `params`; see `SqlDialect`), the table's name
 * given by the caller from the DataSource's metadata (entityPrefix included). What an engine
 * lacks is read from its dialect; which statement runs where is the store's strategies' choice.
 */

/** The two states a claim takes rows from: pending ones, and in-flight ones whose lease ran out. */
export type ClaimableState = Extract<Postback['state'], 'pending' | 'in_flight'>;

export interface DueQuery {
  state: ClaimableState;
  now: number;
  limit: number;
  /** Trackers not to claim for now (circuit open, or no free send slot). */
  skip?: string[];
  /** Only rows due at or after this instant (see `ClaimCursor`). */
  from?: number;
}

/** What a claim's `WITH "due"` selects: the row, and its due time before the lease. */
export const DUE_COLUMNS = `"p"."id" AS "id", "p"."next_attempt_at" AS "due_at"`;
/** A claim also clears `sending_at`: its request has not started (see `markSending`). */
export const LEASE_SET = `"state" = :state, "lease_owner" = :leaseOwner, "claim_token" = :claimToken, "next_attempt_at" = :nextAttemptAt, "sending_at" = NULL, "updated_at" = :updatedAt`;

/**
 * The claim's SELECT for one state: due rows in due order, leaving out reversals whose
 * original postback is still on its way and the trackers in `skip`, locked (SKIP LOCKED)
 * where instances compete. Every value is bound, so each shape of the statement is prepared
 * once (the query builder inlined numbers on SQLite).
 *
 * One state per query, on purpose: with `state IN ('pending', 'in_flight')` the index on
 * (state, next_attempt_at) yields two ranges that the database must merge and sort, so with a
 * backlog of a million due rows every claim would sort a million rows to return fifty. With
 * one state the index returns them already in due order and the scan stops at the limit.
 */
export function dueSelectSql(
  dialect: SqlDialect,
  table: string,
  { state, now, limit, skip = [], from }: DueQuery,
  /** The select list, over the table aliased `"p"`. */
  columns: string,
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
    `ORDER BY "p"."next_attempt_at" ASC LIMIT :dueLimit${dialect.lockSkipLocked}`
  );
}

/** `"alias"."column"`, … of `columns`, for a RETURNING or SELECT list. */
export function columnList(columns: string[], alias?: string): string {
  const prefix = alias ? `"${alias}".` : '';
  return columns.map((c) => `${prefix}"${c}"`).join(', ');
}

/** The select list of a due row as `due` reads it: the claimed columns, state and send mark. */
export function dueRowColumns(claimed: string[]): string {
  return `${columnList(claimed, 'p')}, "p"."state" AS "state", "p"."sending_at" AS "sending_at"`;
}

/** Leases the rows `ids` (`params` holding the lease's values, see `LEASE_SET`). */
export function leaseUpdateSql(
  table: string,
  ids: string[],
  params: Record<string, unknown>,
): string {
  return `UPDATE "${table}" SET ${LEASE_SET} WHERE "id" IN (${placeholders('id', ids, params)})`;
}

/**
 * Selects due rows and leases them in one statement, returning them whole (engines with
 * UPDATE … RETURNING; `select` from `dueSelectSql` with `DUE_COLUMNS`). Where UPDATE has
 * FROM (PostgreSQL) the due time comes back too; SQLite's RETURNING sees only the updated
 * table: no due time, no order. Its rows come back in creation order instead, near enough
 * (SQLite has no floor to keep).
 */
export function claimReturningSql(
  dialect: SqlDialect,
  table: string,
  select: string,
  claimed: string[],
): string {
  return dialect.writableCte
    ? `WITH "due" AS (${select}) UPDATE "${table}" AS "u" SET ${LEASE_SET} FROM "due" WHERE "u"."id" = "due"."id" RETURNING ${columnList(claimed, 'u')}, "due"."due_at" AS "due_at"`
    : `WITH "due" AS (${select}) UPDATE "${table}" SET ${LEASE_SET} WHERE "id" IN (SELECT "id" FROM "due") RETURNING ${columnList(claimed)}, "created_at"`;
}

/**
 * The UPDATE marking `count` deliveries of one group (see `groupSettlements`), checked against
 * their claim token, its parameters named with `prefix`: the group's six values
 * (`DELIVERED_NAMES`), then the ids `:<prefix>id<i>`.
 */
export function deliveredUpdateText(table: string, count: number, prefix = ''): string {
  const ids = Array.from({ length: count }, (_, i) => `:${prefix}id${i}`).join(', ');
  return `UPDATE "${table}" SET "state" = :${prefix}delivered, "attempts" = :${prefix}attempts, "last_status" = :${prefix}lastStatus, "delivered_at" = :${prefix}deliveredAt, "last_error" = NULL, "lease_owner" = NULL, "claim_token" = NULL, "updated_at" = :${prefix}updatedAt WHERE "claim_token" = :${prefix}token AND "id" IN (${ids})`;
}

/** The names of `deliveredUpdateText`'s values but the ids, in placeholder order. */
export const DELIVERED_NAMES = [
  'delivered',
  'attempts',
  'lastStatus',
  'deliveredAt',
  'updatedAt',
  'token',
] as const;

/** `deliveredUpdateText` that says which rows it still held. */
export function deliveredReturningText(table: string, count: number, prefix = ''): string {
  return `${deliveredUpdateText(table, count, prefix)} RETURNING "id"`;
}

/**
 * Which of `ids` still carry the claim token `:token`, locked so that no takeover slips in
 * before their UPDATE (engines without UPDATE … RETURNING).
 */
export function ownedSelectSql(
  dialect: SqlDialect,
  table: string,
  ids: string[],
  params: Record<string, unknown>,
): string {
  return `SELECT "id" FROM "${table}" WHERE "claim_token" = :token AND "id" IN (${placeholders('id', ids, params)})${dialect.lockForUpdate}`;
}

/** Rows per UPDATE of `markStatements`: well within every engine's limit on bound parameters. */
const MARKS_PER_STATEMENT = 100;

/** The claimed rows a mark names: their claim, so a row taken over is not marked. */
export interface Marked {
  id: string;
  claimToken: string | null;
}

/**
 * The UPDATEs writing `sending_at` = `now` on `rows`, each checked against its claim token (a
 * row taken over is not marked): one per claim and hundred rows, their parameters added to
 * `params` under names starting with `prefix`, so that they can join a larger statement.
 */
export function markStatements(
  table: string,
  rows: Marked[],
  now: number,
  params: Record<string, unknown>,
  prefix = 'm',
): string[] {
  const texts: string[] = [];
  params[`${prefix}At`] = now;
  [...new Set(rows.map((r) => r.claimToken))].forEach((token, t) => {
    const ids = rows.filter((r) => r.claimToken === token).map((r) => r.id);
    params[`${prefix}${t}token`] = token;
    for (let i = 0; i < ids.length; i += MARKS_PER_STATEMENT) {
      const list = placeholders(
        `${prefix}${t}_${i}_`,
        ids.slice(i, i + MARKS_PER_STATEMENT),
        params,
      );
      texts.push(
        `UPDATE "${table}" SET "sending_at" = :${prefix}At WHERE "claim_token" = :${prefix}${t}token AND "id" IN (${list})`,
      );
    }
  });
  return texts;
}

/**
 * The parts of a round in one statement (see `oneStatementSql`): the send marks, the attempts'
 * INSERTs, the delivered UPDATEs (each returning the ids it still held, as `settled_id`), the
 * claim (`"due"` selected, `"c"` leased, returned whole with its due time); the outputs padded
 * to one shape for the `UNION ALL`.
 */
export const ROUND_PARTS = {
  mark: (m: number, update: string) => `"m${m}" AS (${update})`,
  attempts: (a: number, insert: string) => `"a${a}" AS (${insert})`,
  settled: (g: number, update: string) => `"s${g}" AS (${update})`,
  settledOutput: (g: number, claimed: string[]) =>
    `SELECT ${claimed.map(() => 'NULL').join(', ')}, NULL, "id" AS "settled_id" FROM "s${g}"`,
  due: (select: string) => `"due" AS (${select})`,
  claim: (table: string, claimed: string[]) =>
    `"c" AS (UPDATE "${table}" AS "u" SET ${LEASE_SET} FROM "due" WHERE "u"."id" = "due"."id" RETURNING ${columnList(claimed, 'u')}, "due"."due_at" AS "due_at")`,
  claimOutput: (claimed: string[]) =>
    `SELECT ${claimed.map((c) => `"c"."${c}"`).join(', ')}, "c"."due_at", NULL AS "settled_id" FROM "c"`,
};

/**
 * A round in one statement (PostgreSQL): each part a data-modifying `WITH`, the outputs a
 * `UNION ALL` of the rows the caller reads back. PostgreSQL runs every part of a WITH, read or
 * not; with no output (marks alone) the statement returns nothing.
 */
export function oneStatementSql(parts: string[], outputs: string[]): string {
  const selected = outputs.length > 0 ? outputs : ['SELECT NULL AS "settled_id" WHERE false'];
  return `WITH ${parts.join(', ')} ${selected.join(' UNION ALL ')}`;
}

/**
 * The server's clock in milliseconds as `now`, in the engine's own text (not neutral: the
 * expression may hold `::`); undefined where there is no server to ask.
 */
export function clockSql(dialect: SqlDialect): string | undefined {
  return dialect.clockMs === undefined
    ? undefined
    : `SELECT ${dialect.clockMs} AS ${dialect.quote('now')}`;
}
