import type { DataSource, EntityManager } from 'typeorm';

import type { Click } from './click.entity.js';
import { type ClickColumn, clickUpsertSql } from './click-upsert-sql.js';
import { dataSourceOf } from '../database/typeorm-compat.js';

/**
 * What a repeated landing changes, in one place for the single write of `ClickService.capture()`
 * and the batched writes of the capture buffer. One row per (tracker, click ID, visitor key): a
 * repeated landing refreshes `last_seen_at` and `landing_path`, and overwrites `customer_id`
 * and `sub_params` only when it has them, so a landing without them never erases an earlier
 * one's.
 */

/** The unique key of a click row, as one string. */
export function clickKey(row: Pick<Click, 'tracker' | 'clickId' | 'visitorKey'>): string {
  return `${row.tracker}\u0000${row.clickId}\u0000${row.visitorKey}`;
}

/**
 * Two landings of the same key folded into one row, as if `newer` had been written after
 * `older`: writing the result gives the database the same row as writing both in turn.
 */
export function mergeLandings(older: Click, newer: Click): Click {
  return {
    ...older,
    firstSeenAt: Math.min(older.firstSeenAt, newer.firstSeenAt),
    lastSeenAt: newer.lastSeenAt,
    landingPath: newer.landingPath,
    customerId: newer.customerId ?? older.customerId,
    subParams: newer.subParams ?? older.subParams,
  };
}

/** Rows of the largest statement; smaller rests go in halving sizes (256, 128, … 1). */
const MAX_ROWS_PER_STATEMENT = 512;

/**
 * Inserts the rows, or updates the existing row of each key. The keys must be distinct (merge
 * repeats first): PostgreSQL refuses to update one row twice in a statement.
 */
export async function upsertClicks(manager: EntityManager, rows: Click[]): Promise<void> {
  for (const { sql, values } of clickUpsertStatements(dataSourceOf(manager), rows)) {
    await manager.query(sql, values);
  }
}

/** The statements of `upsertClicks`, in the order to run them, not run. */
export function clickUpsertStatements(
  dataSource: DataSource,
  rows: Click[],
): { sql: string; values: unknown[] }[] {
  // One statement can only say one thing per column, so rows that overwrite different
  // columns go in different statements. Sorted by key, concurrent instances lock rows in the
  // same order and do not deadlock each other.
  const groups = new Map<string, { overwrite: ClickColumn[]; rows: Click[] }>();
  for (const row of [...rows].sort(byKey)) {
    const overwrite = overwrittenColumns(row);
    const name = overwrite.join();
    const group = groups.get(name) ?? { overwrite, rows: [] };
    group.rows.push(row);
    groups.set(name, group);
  }
  const sql = clickUpsertSql(dataSource);
  const statements: { sql: string; values: unknown[] }[] = [];
  for (const { overwrite, rows: grouped } of groups.values()) {
    for (let start = 0, size = MAX_ROWS_PER_STATEMENT; start < grouped.length;) {
      if (grouped.length - start < size) {
        size /= 2;
        continue;
      }
      const chunk = grouped.slice(start, start + size);
      statements.push({ sql: sql.statement(size, overwrite), values: sql.parameters(chunk) });
      start += size;
    }
  }
  return statements;
}

function overwrittenColumns(row: Click): ClickColumn[] {
  const overwrite: ClickColumn[] = ['lastSeenAt', 'landingPath'];
  if (row.customerId !== null) overwrite.push('customerId');
  if (row.subParams !== null) overwrite.push('subParams');
  return overwrite;
}

/** The unique key's order, without building key strings: the sort compares often. */
function byKey(a: Click, b: Click): number {
  return (
    compare(a.tracker, b.tracker) ||
    compare(a.clickId, b.clickId) ||
    compare(a.visitorKey, b.visitorKey)
  );
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
