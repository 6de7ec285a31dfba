import type { DataSource, ObjectLiteral } from 'typeorm';

import type { PostbackDatabase } from '../database/postback-database.js';
import type { WriterStatement } from '../database/sqlite-writer-thread.js';
import { boundStatement, compile } from '../database/raw-sql.js';
import { insertManyBound } from '../database/raw-insert.js';
import { type Settlement, tableOf } from './claimed-postback.js';
import { DeliveryAttempt } from './delivery-attempt.entity.js';
import type { ExchangeResult, ExchangeRound, SteadyRound } from './exchange-round.js';
import type { OutboxRepository } from './outbox.repository.js';
import { deliveredReturningText } from './outbox.sql.js';
import { Postback } from './postback.entity.js';
import { attemptRows, chunks, deliveredValues } from './settlements.js';

/** A writer thread's delivered UPDATE (RETURNING the ids it still held) for each row count. */
const deliveredOffThreadSql = new WeakMap<DataSource, Map<string, string>>();

/**
 * `deliveredUpdateSql … RETURNING "id"` for a SQLite writer thread, its `?` text compiled once
 * per row count and its values put in order directly: a steady drain writes one such UPDATE a
 * round, and naming a hundred ids, joining a new text and looking it up in the compiled cache
 * each time cost the event loop a few microseconds per postback sent.
 */
function deliveredUpdateOffThread(
  dataSource: DataSource,
  table: string,
  batch: Settlement[],
  now: number,
): WriterStatement {
  let texts = deliveredOffThreadSql.get(dataSource);
  if (!texts) deliveredOffThreadSql.set(dataSource, (texts = new Map()));
  const key = `${table}\u0000${batch.length}`;
  let sql = texts.get(key);
  if (sql === undefined) {
    const text = deliveredReturningText(table, batch.length);
    sql = compile(dataSource, text, true).sql;
    texts.set(key, sql);
  }
  const values = deliveredValues(batch, now);
  for (const { row } of batch) values.push(row.id);
  return { sql, values };
}

/** SQLite's steady round on the writer thread (see `PostbackDatabase.writeOffThread`). */
export class WriterThreadRound implements ExchangeRound {
  constructor(
    private readonly db: PostbackDatabase,
    private readonly rows: OutboxRepository,
  ) {}

  /**
   * A steady round on SQLite's writer thread: the attempts' INSERT, each group's delivered
   * UPDATE (RETURNING the rows it still held) and the claim, as one batch in one transaction,
   * while the event loop goes on sending (see PostbackDatabase.writeOffThread).
   */
  async run({ finished, delivered, now, claim }: SteadyRound): Promise<ExchangeResult> {
    const manager = this.db.dataSource.manager;
    const dataSource = this.db.dataSource;
    const table = tableOf(manager, Postback);
    const inserts: WriterStatement[] = [];
    for (const attempts of chunks(attemptRows(finished, now))) {
      inserts.push(insertManyBound(dataSource, DeliveryAttempt, attempts));
    }
    const updates: WriterStatement[] = [];
    for (const batch of delivered.flatMap((group) => chunks(group))) {
      updates.push(deliveredUpdateOffThread(dataSource, table, batch, now));
    }
    const claiming: WriterStatement[] = [];
    if (claim) {
      const params: Record<string, unknown> = { ...this.rows.newLease(now) };
      claiming.push(boundStatement(dataSource, this.rows.claimSql(manager, claim, params), params));
    }
    const results = await this.db.writeOffThread([...inserts, ...updates, ...claiming]);
    const settled = results.slice(inserts.length, inserts.length + updates.length);
    const owned = new Set(settled.flatMap((rows) => (rows as ObjectLiteral[]).map((r) => r.id)));
    const claimed = claim ? this.rows.inDueOrder(manager, results.at(-1) as ObjectLiteral[]) : [];
    return { claimed, lost: finished.filter((s) => !owned.has(s.row.id)) };
  }
}
