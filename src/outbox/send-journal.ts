import { appendFileSync, readFileSync, renameSync, writeFileSync } from 'node:fs';

import type { PostbackDatabase } from '../database/postback-database.js';
import { markSending } from './send-marks.js';
import { Postback } from './postback.entity.js';

/** A claimed row as a mark names it (and as a sweep finds it, with its column's mark). */
export interface MarkedRow {
  id: string;
  claimToken: string | null;
  sendingAt?: number | null;
}

/**
 * Where "this row's request has started" is written before the request goes out, and read
 * when its lease is found expired (see settleAbandoned): an attempt if marked, a lost claim
 * if not.
 */
export interface SendMarks {
  mark(rows: MarkedRow[], now: number): Promise<void>;
  /** When the row's current claim started sending; null: it never did. */
  sentAt(row: MarkedRow): number | null;
}

/** Keys held before the journal is compacted to the rows still in flight. */
const COMPACT_AT = 10_000;

/**
 * On PostgreSQL and MySQL/MariaDB the mark is the row's `sending_at` column, so any instance
 * may find the expired lease; it rides the flusher's next exchange, and a worker killed before
 * it leaves lost claims, never early dead letters. On SQLite, where a write waits for the one
 * under way, the mark is appended (no fsync) to a journal beside the database file: it
 * outlives a kill of the process, and a power loss can only turn an attempt into a lost claim.
 * Why not an awaited UPDATE: docs/internals/bench-issue-15.md.
 */
export function sendMarksFor(db: PostbackDatabase): SendMarks {
  if (!db.serialised) {
    return {
      mark: (rows, now) => markSending(db, rows, now),
      sentAt: (row) => row.sendingAt ?? null,
    };
  }
  const file = db.dataSource.options.database;
  const path = typeof file === 'string' && file !== ':memory:' ? `${file}-sending` : undefined;
  return new SqliteSendJournal(db, path);
}

class SqliteSendJournal implements SendMarks {
  private readonly marks = new Map<string, number>();
  private compacting = false;

  constructor(
    private readonly db: PostbackDatabase,
    private readonly path: string | undefined,
  ) {
    if (!path) return;
    let text = '';
    try {
      text = readFileSync(path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    for (const line of text.split('\n')) {
      const [token, id, at] = line.split(' ');
      if (token && id && at) this.marks.set(`${token} ${id}`, Number(at));
    }
  }

  async mark(rows: MarkedRow[], now: number): Promise<void> {
    let lines = '';
    for (const row of rows) {
      this.marks.set(`${row.claimToken} ${row.id}`, now);
      lines += `${row.claimToken} ${row.id} ${now}\n`;
    }
    if (this.path) appendFileSync(this.path, lines);
    if (this.marks.size >= COMPACT_AT && !this.compacting) await this.compact();
  }

  sentAt(row: MarkedRow): number | null {
    return this.marks.get(`${row.claimToken} ${row.id}`) ?? null;
  }

  /** Keeps the marks of rows still in flight under the marked claim (and those added since). */
  private async compact(): Promise<void> {
    this.compacting = true;
    try {
      const before = new Set(this.marks.keys());
      const live = await this.db.run((manager) =>
        manager.find(Postback, {
          select: { id: true, claimToken: true },
          where: { state: 'in_flight' },
        }),
      );
      const keep = new Set(live.map((row) => `${row.claimToken} ${row.id}`));
      for (const key of before) if (!keep.has(key)) this.marks.delete(key);
      if (this.path) {
        let text = '';
        for (const [key, at] of this.marks) text += `${key} ${at}\n`;
        writeFileSync(`${this.path}.tmp`, text);
        renameSync(`${this.path}.tmp`, this.path);
      }
    } finally {
      this.compacting = false;
    }
  }
}
