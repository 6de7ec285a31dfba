import { type BeforeApplicationShutdown, Inject, Injectable, Logger } from '@nestjs/common';

import { LogThrottle } from '../common/log-throttle.js';
import { safeErrorText, worthLogging } from '../database/safe-error-text.js';
import { PostbackDatabase } from '../database/postback-database.js';
import { POSTBACK_RESOLVED_OPTIONS } from '../postback.constants.js';
import type { ResolvedPostbackOptions } from '../options/resolved-options.js';
import { writeClickBatch } from './click-batch-writer.js';
import type { Click } from './click.entity.js';
import { clickKey, mergeLandings } from './click-upsert.js';

/** Clicks held in memory at most (queued or being written); past it a landing keeps its click in the session only. */
export const MAX_PENDING_CLICK_WRITES = 10_000;
/** A queue this long is written at once rather than at the end of the interval. */
export const CLICK_WRITE_BATCH_SIZE = 1_000;
/** Longest wait between two tries while the database keeps failing. */
export const MAX_CLICK_RETRY_DELAY_MS = 5_000;
/** Tries of the last write at shutdown before the clicks left are given up (and logged). */
const SHUTDOWN_ATTEMPTS = 3;
/** At most one warning (and one error) per this period; the rest are counted. */
const LOG_INTERVAL_MS = 10_000;

/**
 * Holds the clicks the capture middleware validated until they are written: every
 * `capture.bufferMs` (or as soon as CLICK_WRITE_BATCH_SIZE wait), all in one transaction,
 * repeated landings of a key merged first. One write is under way at a time; clicks arriving
 * meanwhile wait for the next. With `bufferMs: 0` the next write starts as soon as the
 * previous one ends, so a click waits only for the database.
 *
 * A failed write keeps its clicks (newer landings of the same key still win) and is tried
 * again after a growing delay, within the MAX_PENDING_CLICK_WRITES bound. A row the database
 * refuses for its values is logged and dropped (it stays in the visitor's session), so it
 * cannot hold back the others forever. Shutdown writes what is left before the database
 * closes.
 */
@Injectable()
export class ClickWriteBuffer implements BeforeApplicationShutdown {
  private readonly logger = new Logger(ClickWriteBuffer.name);
  private readonly refusalLog = new LogThrottle(LOG_INTERVAL_MS);
  private readonly failureLog = new LogThrottle(LOG_INTERVAL_MS);
  private readonly bufferMs: number;
  private queue = new Map<string, Click>();
  private writing?: Promise<void>;
  private writingCount = 0;
  private timer?: NodeJS.Timeout;
  /** Consecutive failed writes; sets the retry delay. */
  private failures = 0;
  private closed = false;

  constructor(
    private readonly db: PostbackDatabase,
    @Inject(POSTBACK_RESOLVED_OPTIONS) options: ResolvedPostbackOptions,
  ) {
    this.bufferMs = options.capture.bufferMs;
  }

  /** Clicks not yet in the database: queued, or in the write under way. */
  get pending(): number {
    return this.queue.size + this.writingCount;
  }

  /**
   * Queues a validated click row. False when it was refused (the bound is reached, or the
   * application is shutting down): the caller then has it in the session only.
   */
  add(row: Click): boolean {
    const key = clickKey(row);
    const queued = this.queue.get(key);
    if (this.closed || (!queued && this.pending >= MAX_PENDING_CLICK_WRITES)) {
      this.refusalLog.log((heldBack) =>
        this.logger.warn(
          `${this.closed ? 'Shutting down' : `${this.pending} clicks are waiting for the database`}: ` +
            `a click of tracker "${row.tracker}" is kept in the visitor's session only` +
            (heldBack ? ` (${heldBack} more since the last warning)` : ''),
        ),
      );
      return false;
    }
    this.enqueue(row, key, queued);
    return true;
  }

  private enqueue(row: Click, key = clickKey(row), queued = this.queue.get(key)): void {
    this.queue.set(key, queued ? mergeLandings(queued, row) : row);
    if (this.queue.size >= CLICK_WRITE_BATCH_SIZE) void this.write();
    else this.schedule(this.bufferMs);
  }

  /**
   * Writes what is queued now (after the write under way, if any) and resolves when that
   * write has ended; a failed write has been logged and its clicks are kept. Never rejects.
   */
  async flushNow(): Promise<void> {
    if (this.writing) await this.writing;
    if (this.queue.size > 0) await this.write();
  }

  /** Writes the queued clicks before the database closes; landings from now on are session-only. */
  async beforeApplicationShutdown(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    for (let attempt = 1; this.pending > 0; attempt++) {
      await this.flushNow();
      if (this.pending === 0) return;
      if (attempt >= SHUTDOWN_ATTEMPTS) {
        this.logger.error(
          `Shutting down with ${this.pending} clicks the database did not take; they are kept in the visitors' sessions only`,
        );
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, 200 * attempt));
    }
  }

  private schedule(delayMs: number): void {
    if (this.timer || this.writing || this.closed) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.write();
    }, delayMs);
  }

  private write(): Promise<void> {
    if (this.writing) return this.writing;
    if (this.queue.size === 0) return Promise.resolve();
    clearTimeout(this.timer);
    this.timer = undefined;
    const batch = [...this.queue.values()];
    this.queue = new Map();
    this.writingCount = batch.length;
    this.writing = this.writeBatch(batch).finally(() => {
      this.writing = undefined;
      this.writingCount = 0;
      if (this.queue.size === 0) return;
      // After a failure, wait longer each time: the database needs the time, and the log and
      // the bound take care of the landings meanwhile.
      const retryMs = Math.max(this.bufferMs, 100) * 2 ** (this.failures - 1);
      const full = this.queue.size >= CLICK_WRITE_BATCH_SIZE;
      this.schedule(
        this.failures ? Math.min(retryMs, MAX_CLICK_RETRY_DELAY_MS) : full ? 0 : this.bufferMs,
      );
    });
    return this.writing;
  }

  private async writeBatch(batch: Click[]): Promise<void> {
    try {
      const refused = await writeClickBatch(this.db, batch);
      this.failures = 0;
      for (const { row, reason } of refused) {
        this.logger.error(
          `The database refused a click of tracker "${row.tracker}" (${reason}); it is kept in the visitor's session only`,
        );
      }
    } catch (error) {
      this.failures++;
      this.requeue(batch);
      // An outage has its own line (DatabaseWriteHealth); the clicks wait for its end.
      if (!worthLogging(error)) return;
      this.failureLog.log((heldBack) =>
        this.logger.error(
          `Could not store ${batch.length} clicks: ${safeErrorText(error)}; they are kept ` +
            `and written again shortly (${this.failures} failed writes in a row` +
            (heldBack ? `, ${heldBack} not logged` : '') +
            ')',
        ),
      );
    }
  }

  /** Puts a failed batch back; landings queued meanwhile are newer and keep the last word. */
  private requeue(batch: Click[]): void {
    const newer = this.queue;
    this.queue = new Map(batch.map((row) => [clickKey(row), row]));
    for (const [key, row] of newer) {
      const older = this.queue.get(key);
      this.queue.set(key, older ? mergeLandings(older, row) : row);
    }
  }
}
