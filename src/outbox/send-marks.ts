import type { EntityManager } from 'typeorm';

import type { PostbackDatabase } from '../database/postback-database.js';
import { rawQuery } from '../database/raw-sql.js';
import { dataSourceOf } from '../database/typeorm-compat.js';
import { type Marked, markStatements } from './outbox.sql.js';
import { Postback } from './postback.entity.js';

/** Rows whose requests started at `at` (or a little later), for `OutboxStore.exchange`. */
export interface SendingMarks<T extends Marked = Marked> {
  rows: T[];
  at: number;
}

/**
 * Writes `sending_at` on claimed rows whose requests have started (see SendMarks). A worker
 * killed afterwards leaves the mark behind: when the lease is found expired, a marked row may
 * have reached the tracker (an attempt), an unmarked one never left the worker's queue (a lost
 * claim, see settleAbandoned).
 */
export async function markSending(
  db: PostbackDatabase,
  rows: Marked[],
  now: number,
): Promise<void> {
  if (rows.length === 0) return;
  await db.run((manager) => markSendingIn(manager, rows, now));
}

/** `markSending` on `manager` (a transaction's, when it runs in one). */
export async function markSendingIn(
  manager: EntityManager,
  rows: Marked[],
  now: number,
): Promise<void> {
  const params: Record<string, unknown> = {};
  const table = dataSourceOf(manager).getMetadata(Postback).tableName;
  for (const text of markStatements(table, rows, now, params)) {
    await rawQuery(manager, text, params);
  }
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

/**
 * Sends started whose marks are still to be written, where the marks ride the exchanges (see
 * SendMarks), oldest first. A send answered within `delayMs` is settled by its own outcome
 * and never marked: only sends out longer than that are, so a fast tracker costs no mark.
 */
export class PendingMarks<T extends Marked> {
  private started: { row: T; at: number }[] = [];

  constructor(private readonly delayMs: number) {}

  get size(): number {
    return this.started.length;
  }

  add(rows: T[], at: number): void {
    for (const row of rows) this.started.push({ row, at });
  }

  /** When the oldest send still unmarked falls due for its mark; undefined: none waits. */
  dueAt(): number | undefined {
    return this.started.length > 0 ? this.started[0].at + this.delayMs : undefined;
  }

  /**
   * The marks of the sends out for `delayMs` by `now`, taken from here; the sends settled
   * by the exchange they ride (`settled`) are dropped, marked or not.
   */
  take(now: number, settled: Set<string>): SendingMarks<T> | undefined {
    this.started = this.started.filter(({ row }) => !settled.has(row.id));
    let due = 0;
    while (due < this.started.length && this.started[due].at + this.delayMs <= now) due++;
    return this.taken(this.started.splice(0, due));
  }

  /** Every mark still to write (at shutdown), less the sends `settled`. */
  takeAll(settled: Set<string>): SendingMarks<T> | undefined {
    return this.taken(this.started.splice(0).filter(({ row }) => !settled.has(row.id)));
  }

  /** Puts back marks whose write failed, to go with the next exchange. */
  putBack(marks: SendingMarks<T>): void {
    const back = marks.rows.map((row) => ({ row, at: marks.at }));
    this.started = back.concat(this.started);
  }

  private taken(entries: { row: T; at: number }[]): SendingMarks<T> | undefined {
    if (entries.length === 0) return undefined;
    // One time for the batch: the earliest, at most `delayMs` before the others.
    return { rows: entries.map((e) => e.row), at: entries[0].at };
  }
}
