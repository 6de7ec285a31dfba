import { uuidV7 } from '../common/uuid-v7.js';
import type { Settlement } from './claimed-postback.js';
import type { DeliveryAttempt } from './delivery-attempt.entity.js';
import { DELIVERED_NAMES, deliveredReturningText, deliveredUpdateText } from './outbox.sql.js';

/** Rows per multi-row statement: well within every engine's limit on bound parameters. */
const ROWS_PER_STATEMENT = 100;

/** The attempt rows of `settlements`, with time-ordered ids (appended to the key index). */
export function attemptRows(settlements: Settlement[], now: number): DeliveryAttempt[] {
  // Spelled out, not spread: a spread object carries more into V8's old generation, once per
  // postback of a backlog.
  return settlements.map(({ row, attempt }) => ({
    id: uuidV7(now),
    postbackId: row.id,
    attempt: attempt.attempt,
    startedAt: attempt.startedAt,
    durationMs: attempt.durationMs,
    requestUrl: attempt.requestUrl,
    statusCode: attempt.statusCode,
    outcome: attempt.outcome,
    error: attempt.error,
    responseExcerpt: attempt.responseExcerpt,
  }));
}

/**
 * Deliveries, nearly every settlement in a healthy outbox, grouped by what their UPDATE
 * writes (claim token, attempt count, status), so that one UPDATE serves each group; the
 * other settlements (retries, dead letters) are written one by one.
 */
export function groupSettlements(finished: Settlement[]): {
  delivered: Settlement[][];
  others: Settlement[];
} {
  const delivered = new Map<string, Settlement[]>();
  const others: Settlement[] = [];
  for (const settlement of finished) {
    const { row, change } = settlement;
    if (change.state !== 'delivered' || typeof change.attempts !== 'number') {
      others.push(settlement);
      continue;
    }
    const key = `${row.claimToken}\u0000${change.attempts}\u0000${change.lastStatus}`;
    const group = delivered.get(key);
    if (group) group.push(settlement);
    else delivered.set(key, [settlement]);
  }
  return { delivered: [...delivered.values()], others };
}

/** The latest delivery of a group: within one write they are milliseconds apart. */
function deliveredAtOf(batch: Settlement[], now: number): number {
  let latest = Number.NEGATIVE_INFINITY;
  for (const { change } of batch) latest = Math.max(latest, change.deliveredAt ?? now);
  return latest;
}

/** The values of `deliveredUpdateText` but the ids, in placeholder order. */
export function deliveredValues(batch: Settlement[], now: number): unknown[] {
  const [{ row, change }] = batch;
  return [
    'delivered',
    change.attempts,
    change.lastStatus,
    deliveredAtOf(batch, now),
    now,
    row.claimToken,
  ];
}

/**
 * `deliveredUpdateText` for `batch`, its values added to `params` (named with `prefix`), for a
 * larger statement or `rawQuery`.
 */
export function deliveredUpdateSql(
  table: string,
  batch: Settlement[],
  now: number,
  params: Record<string, unknown>,
  prefix = '',
  returning = false,
): string {
  deliveredValues(batch, now).forEach(
    (value, i) => (params[`${prefix}${DELIVERED_NAMES[i]}`] = value),
  );
  batch.forEach((s, i) => (params[`${prefix}id${i}`] = s.row.id));
  return returning
    ? deliveredReturningText(table, batch.length, prefix)
    : deliveredUpdateText(table, batch.length, prefix);
}

export function chunks<T>(items: T[], size = ROWS_PER_STATEMENT): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
