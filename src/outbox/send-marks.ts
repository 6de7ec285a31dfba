import type { PostbackDatabase } from '../database/postback-database.js';
import { boundStatement, placeholders, rawQuery } from '../database/raw-sql.js';
import type { WriterStatement } from '../database/sqlite-writer-thread.js';
import { Postback } from './postback.entity.js';

/** The claimed rows a mark names: their claim, so a row taken over is not marked. */
interface Marked {
  id: string;
  claimToken: string | null;
}

/** Rows per UPDATE: well within every engine's limit on bound parameters. */
const ROWS_PER_STATEMENT = 100;

/**
 * Writes `sending_at` on claimed rows just before their requests go out, each checked against
 * its claim token. A worker killed afterwards leaves the mark behind: when the lease is found
 * expired, a marked row may have reached the tracker (an attempt), an unmarked one never left
 * the worker's queue (a lost claim, see settleAbandoned). One statement per claim and hundred
 * rows; the requests wait for it, never the other way round.
 */
export async function markSending(
  db: PostbackDatabase,
  rows: Marked[],
  now: number,
): Promise<void> {
  if (rows.length === 0) return;
  const table = db.dataSource.getMetadata(Postback).tableName;
  const statements: { text: string; params: Record<string, unknown> }[] = [];
  for (const token of new Set(rows.map((r) => r.claimToken))) {
    const ids = rows.filter((r) => r.claimToken === token).map((r) => r.id);
    for (let i = 0; i < ids.length; i += ROWS_PER_STATEMENT) {
      const params: Record<string, unknown> = { sendingAt: now, token };
      const list = placeholders('id', ids.slice(i, i + ROWS_PER_STATEMENT), params);
      const text = `UPDATE "${table}" SET "sending_at" = :sendingAt WHERE "claim_token" = :token AND "id" IN (${list})`;
      statements.push({ text, params });
    }
  }
  if (db.offThread) {
    const bound: WriterStatement[] = statements.map(({ text, params }) =>
      boundStatement(db.dataSource, text, params),
    );
    await db.writeOffThread(bound);
    return;
  }
  await db.run(async (manager) => {
    for (const { text, params } of statements) await rawQuery(manager, text, params);
  });
}

/**
 * One mark written at a time: rows that start while one is being written wait for it and go
 * together in the next, so a burst of answers (each freeing a slot) costs one or two writes,
 * not one each. On SQLite each write is a commit.
 */
export class CoalescedMarks<T> {
  private writing?: Promise<void>;
  private next?: { rows: T[]; done: Promise<void> };

  constructor(private readonly write: (rows: T[]) => Promise<void>) {}

  /** Resolves once `rows` are marked; rejects with the write's error. */
  mark(rows: T[]): Promise<void> {
    if (!this.writing) return this.start(rows);
    if (!this.next) {
      const batch: { rows: T[]; done?: Promise<void> } = { rows: [] };
      batch.done = this.writing
        .catch(() => undefined)
        .then(() => {
          this.next = undefined;
          return this.start(batch.rows);
        });
      this.next = batch as { rows: T[]; done: Promise<void> };
    }
    this.next.rows.push(...rows);
    return this.next.done;
  }

  private start(rows: T[]): Promise<void> {
    const writing = this.write(rows);
    this.writing = writing;
    const clear = () => {
      if (this.writing === writing) this.writing = undefined;
    };
    writing.then(clear, clear);
    return writing;
  }
}
