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
 * On PostgreSQL and MySQL/MariaDB the mark is the row's `sending_at` column: any instance may
 * find the expired lease. The requests do not wait for it: the flusher's marks ride with its
 * next exchange (within SETTLE_DELAY_MS of the send), as the outcomes do. A worker killed in
 * between leaves those few sends unmarked: counted as lost claims, sent again, never
 * dead-lettered early. (A separate UPDATE awaited before the sends slowed a drain shared by
 * several agents; docs/internals/bench-issue-15.md.) A SQLite file serves one process, and a write there waits for the
 * write under way (a round's commit, an fsync): the sends would wait for every round. The
 * mark goes instead to a journal beside the database file, appended without fsync: it
 * outlives a kill of the process (the kernel holds it), which is what it is for, and is read
 * by the next process on that file. (A power loss can lose a mark: that send then counts as a
 * lost claim rather than an attempt, never the reverse.)
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
