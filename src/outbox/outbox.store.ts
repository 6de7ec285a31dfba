import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';

import { Inject, Injectable } from '@nestjs/common';

import type { Clock } from '../common/clock.js';
import { PostbackDatabase } from '../database/postback-database.js';
import { POSTBACK_CLOCK, POSTBACK_RESOLVED_OPTIONS } from '../postback.constants.js';
import type { ResolvedPostbackOptions } from '../options/resolved-options.js';
import { ClaimCursor } from './claim-cursor.js';
import type { ClaimedPostback, Settlement } from './claimed-postback.js';
import { type ExchangeRound, steadyRoundOf } from './exchange-round.js';
import { OneStatementRound } from './one-statement.round.js';
import { OutboxRepository } from './outbox.repository.js';
import type { Postback } from './postback.entity.js';
import { type SendMarks, sendMarksFor } from './send-journal.js';
import type { SendingMarks } from './send-marks.js';
import { TransactionRound } from './transaction.round.js';
import { WriterThreadRound } from './writer-thread.round.js';

export type { AttemptRecord, ClaimedPostback, Settlement } from './claimed-postback.js';

/**
 * Claims and settles outbox rows. A claim is a lease: the rows go `in_flight` with a fresh
 * claim token and `next_attempt_at` set to the lease expiry, so a crashed worker's rows fall
 * due again by themselves. Settling checks the token, so a worker whose lease was taken over
 * cannot overwrite the newer owner's outcome.
 *
 * The facade of the outbox's persistence: where claims start (`ClaimCursor`), the rows
 * (`OutboxRepository`), and how a round is written, chosen once for the engine: one statement
 * on PostgreSQL, the writer thread on a SQLite file, else a plain transaction.
 */
@Injectable()
export class OutboxStore {
  /** Who holds a lease, for operators reading the table. */
  readonly workerId = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`.slice(0, 64);

  private readonly cursor: ClaimCursor;
  private readonly rows: OutboxRepository;
  /** How a steady round is written in one go; undefined where neither way exists. */
  private readonly steady: ExchangeRound | undefined;
  private readonly transactionRound: TransactionRound;
  /** Where requests are marked as started (see `markSending`). */
  private readonly marks: SendMarks;
  /**
   * Whether the flusher hands its send marks to the next `exchange` instead of writing them
   * before the requests go out (see `sendMarksFor`).
   */
  readonly marksRideExchanges: boolean;

  constructor(
    private readonly db: PostbackDatabase,
    @Inject(POSTBACK_RESOLVED_OPTIONS) options: ResolvedPostbackOptions,
    @Inject(POSTBACK_CLOCK) private readonly clock: Clock,
  ) {
    this.marks = sendMarksFor(db);
    this.marksRideExchanges = !db.serialised;
    this.cursor = new ClaimCursor(!db.dialect.serialised);
    this.rows = new OutboxRepository(db, options, clock, this.cursor, this.workerId, this.marks);
    this.transactionRound = new TransactionRound(db, this.rows);
    this.steady = db.dialect.writableCte
      ? new OneStatementRound(db, this.rows)
      : db.offThread
        ? new WriterThreadRound(db, this.rows)
        : undefined;
  }

  /**
   * Records finished attempts and, when `claim` is given, claims more due rows, in one
   * transaction: the flusher's steady state costs one commit (one fsync on SQLite) per round
   * of sends, not two per postback. Returns the rows claimed and the settlements whose claim
   * was lost (the lease expired and another worker took the row: the attempt is still
   * recorded, the row is left to its new owner).
   */
  exchange(
    finished: Settlement[],
    claim?: { limit: number; skipTrackers?: string[] },
    marks?: SendingMarks,
  ): Promise<{ claimed: ClaimedPostback[]; lost: Settlement[] }> {
    const marking = marks && marks.rows.length > 0 ? marks : undefined;
    if (marking && !this.marksRideExchanges) {
      throw new Error('send marks ride exchanges only where they are a column (see SendMarks)');
    }
    const round = this.steady && steadyRoundOf(finished, claim, this.clock, this.cursor);
    if (this.steady && round) {
      if (finished.length === 0 && !round.claim && !marking) {
        return Promise.resolve({ claimed: [], lost: [] });
      }
      return this.steady.run(round, marking);
    }
    return this.transactionRound.run(finished, claim, marking);
  }

  /**
   * How far the database's clock is ahead of this instance's (see `OutboxRepository.clockSkew`);
   * undefined on SQLite.
   */
  clockSkew(): Promise<{ skewMs: number; uncertaintyMs: number } | undefined> {
    return this.rows.clockSkew();
  }

  /** The state of one postback (a reversal's original), or undefined if it is gone. */
  stateOf(id: string): Promise<Postback['state'] | undefined> {
    return this.rows.stateOf(id);
  }

  /** See `refusedSince`: when this run of a postback first met that refusal. */
  refusedSince(postbackId: string, status: number, reason: string): Promise<number | undefined> {
    return this.rows.refusedSince(postbackId, status, reason);
  }

  /** Notes that the requests of `rows` started `at` (default: now; see SendMarks). */
  markSending(rows: ClaimedPostback[], at = this.clock.now()): Promise<void> {
    return this.marks.mark(rows, at);
  }

  /** Hands claimed rows that were never attempted back, due at `dueAt` (default: now). */
  release(rows: ClaimedPostback[], dueAt?: number): Promise<void> {
    return this.rows.release(rows, dueAt);
  }
}
