import { logDatabaseError } from '../database/safe-error-text.js';
import { crowdedTrackers } from './claim-pace.js';
import { type DrainTools, markSending } from './drain-tools.js';
import type { ClaimedPostback, Settlement } from './claimed-postback.js';
import type { SentPostback } from './postback-sender.js';
import { PendingMarks } from './send-marks.js';
import { reportWrite } from './write-report.js';

/** Longest a finished attempt waits in memory before it is written (with those after it). */
const SETTLE_DELAY_MS = 50;
/** After this many failed writes in a row the drain stops claiming and winds down. */
const MAX_WRITE_FAILURES = 5;
const WRITE_RETRY_DELAY_MS = 1_000;
/** Sends whose marks ride with the next exchange go out at once. */
const SENT_UNMARKED = Promise.resolve(true);

/**
 * The state of one drain (see `OutboxFlusher.drain`, which runs the loop) and its steps:
 * dispatch the queued rows to free slots, park the rows of paused trackers, exchange with
 * the database (write what finished, claim more), wind down, hand back what was not started.
 * Every field is touched by the sends' callbacks and the exchange's, between the loop's passes.
 */
export class DrainRound {
  /** Claimed rows not yet started. */
  readonly queue: ClaimedPostback[] = [];
  /** The exchange under way, if any. */
  exchanging?: Promise<void>;
  /** The last exchange (never rejects): its claim may add to `queue`, even after shutdown. */
  lastExchange?: Promise<void>;
  /** Exchanges finished so far: one that lands after the sends were dispatched means a look. */
  exchanged = 0;
  /** Finished attempts not yet written. */
  private readonly finished: Settlement[] = [];
  private inFlight = 0;
  private firstFinishedAt = 0;
  /** The last claim found fewer rows than it asked for. */
  private exhausted = false;
  private crowdedAtLastClaim: string[] = [];
  private writeFailures = 0;
  private retryWriteAt = 0;
  /** Sends whose marks wait for an exchange (see `store.marksRideExchanges`). */
  private readonly unmarked = new PendingMarks<ClaimedPostback>(SETTLE_DELAY_MS);

  constructor(private readonly tools: DrainTools) {}

  /** False once writes failed too often in a row: the drain stops claiming and winds down. */
  get writable(): boolean {
    return this.writeFailures < MAX_WRITE_FAILURES;
  }

  /** Nothing in flight, nothing to write, no exchange under way. */
  get idle(): boolean {
    return this.exchanging === undefined && this.inFlight === 0 && this.finished.length === 0;
  }

  /** New rows were announced: the next exchange claims again, even after an exhausted claim. */
  lookAgain(): void {
    this.exhausted = false;
  }

  /**
   * Starts queued rows, up to `concurrency` sends in flight and each tracker within its slots.
   * Returns the rows whose lease is too short to send, taken from the queue, to release.
   */
  dispatch(now: number): ClaimedPostback[] {
    const { gate, concurrency, minimumLeaseLeftMs } = this.tools;
    const queue = this.queue;
    const expiring: ClaimedPostback[] = [];
    const starting: ClaimedPostback[] = [];
    for (let i = 0; i < queue.length && this.inFlight < concurrency;) {
      const row = queue[i];
      // Its lease would run out during the send: another instance could take the row over
      // and send it too. Hand it back instead; a fresh claim renews the lease.
      if (row.nextAttemptAt - now < minimumLeaseLeftMs) {
        expiring.push(...queue.splice(i, 1));
        continue;
      }
      if (!gate.tryStart(row.tracker, now)) {
        i++;
        continue;
      }
      starting.push(...queue.splice(i, 1));
      this.inFlight++;
    }
    if (starting.length > 0) this.start(starting, now);
    return expiring;
  }

  /** Sends back to the database, due when the circuit may close, rows of paused trackers. */
  async parkPaused(now: number): Promise<void> {
    const { gate, store } = this.tools;
    const byResume = new Map<number, ClaimedPostback[]>();
    for (let i = this.queue.length - 1; i >= 0; i--) {
      const until = gate.openUntil(this.queue[i].tracker, now);
      if (until === undefined) continue;
      byResume.set(until, [...(byResume.get(until) ?? []), ...this.queue.splice(i, 1)]);
    }
    for (const [until, rows] of byResume) await store.release(rows, until);
  }

  /**
   * Starts an exchange when one is due: finished attempts to write, marks to write, or a claim
   * wanted. Not while one is under way. `paused`: trackers not claimed for (their rows are due
   * when their circuit may close).
   */
  exchangeIfDue(now: number, paused: string[]): void {
    const { concurrency, pace } = this.tools;
    const window = pace.window(now);
    // Trackers with more than half the window waiting here are not claimed for: a slow
    // tracker must not fill the window. Once one of them thins out, claim again.
    // (Counted only when it matters: this runs after every finished send.)
    const lowQueue = this.queue.length <= window / 2 || this.inFlight < concurrency;
    let crowded: string[] = [];
    const exhausted = this.exhausted;
    if ((lowQueue && !exhausted) || (exhausted && this.crowdedAtLastClaim.length > 0)) {
      crowded = crowdedTrackers(this.queue, window / 2);
    }
    if (exhausted && this.crowdedAtLastClaim.some((tracker) => !crowded.includes(tracker))) {
      this.exhausted = false;
    }
    // Claim when the queue runs low, or when send slots are free but every queued row
    // waits for a busy tracker (another tracker's rows could use them).
    // (Never with a full window: with a tracker allowed fewer slots than `concurrency`,
    // free slots alone would otherwise mean an empty claim after every send.)
    const limit = window - this.queue.length;
    const wantClaim = !this.exhausted && this.writeFailures === 0 && lowQueue && limit > 0;
    if (wantClaim || this.settleDue(now, window) || this.marksDue(now)) {
      const claim = wantClaim ? { limit, skipTrackers: [...paused, ...crowded] } : undefined;
      this.exchange(now, claim, crowded);
    }
  }

  /** How long the drain may sleep before a write falls due; undefined: until woken. */
  sleepMs(): number | undefined {
    // An exchange under way wakes the drain when it lands; a write falls due only after.
    if (this.exchanging) return undefined;
    const settleAt = this.finished.length > 0 ? this.firstFinishedAt + SETTLE_DELAY_MS : undefined;
    const markAt = this.unmarked.dueAt();
    if (settleAt === undefined && markAt === undefined) return undefined;
    // A failed write's retry holds back both.
    const at =
      this.writeFailures > 0
        ? this.retryWriteAt
        : Math.min(settleAt ?? Infinity, markAt ?? Infinity);
    return Math.max(0, at - this.tools.clock.now());
  }

  /**
   * Shutdown or a failing database: hand back what was claimed but not started (sends in
   * flight may outlast the grace period), wait for the sends, then write them down.
   */
  async windDown(): Promise<void> {
    const { store, signal, logger } = this.tools;
    while (this.exchanging) await signal.sleep();
    await this.handBackQueue();
    // The sends still in flight may outlast the grace period: their marks go now.
    const stillUnmarked = this.unmarked.takeAll(new Set(this.finished.map((s) => s.row.id)));
    if (stillUnmarked) {
      const { rows, at } = stillUnmarked;
      await store.markSending(rows, at).catch((error: Error) => {
        const what = `Could not mark ${rows.length} postback(s) in flight as sending; if this worker stops before they finish, they go out again as lost claims, not attempts`;
        logDatabaseError(logger, what, error);
      });
    }
    while (this.inFlight > 0) await signal.sleep();
    if (this.finished.length === 0) return;
    try {
      reportWrite(logger, this.finished, (await store.exchange(this.finished)).lost);
    } catch (error) {
      // The rows stay in flight; their leases expire and they are sent again.
      const what = `Could not record ${this.finished.length} attempt(s); those postbacks will be sent again once their leases expire`;
      logDatabaseError(logger, what, error);
    }
    this.finished.length = 0;
  }

  /** Returns the claimed rows never started; a failure leaves them to their lease. */
  async handBackQueue(): Promise<void> {
    if (this.queue.length === 0) return;
    const rows = this.queue.splice(0);
    await this.tools.store.release(rows).catch((error: Error) => {
      this.tools.logger.warn(
        `Could not hand back ${rows.length} claimed postback(s); they go out again once their leases expire: ${error.message}`,
      );
    });
  }

  /**
   * Marks rows as sending (before they go out, or with the next exchange), then sends them:
   * a lease found expired then tells an attempt that may have reached the tracker from a
   * claim that never left this queue.
   */
  private start(starting: ClaimedPostback[], now: number): void {
    const { store, sender, logger } = this.tools;
    let marked: Promise<boolean> = SENT_UNMARKED;
    if (store.marksRideExchanges) this.unmarked.add(starting, now);
    else marked = markSending(this.tools, starting);
    for (const row of starting) {
      void marked
        .then((sent) => (sent ? sender.send(row) : undefined))
        .catch((error: Error) => {
          // A bug, not a delivery outcome: the row stays in flight until its lease
          // expires, then counts as an attempt and goes out again.
          logDatabaseError(logger, `Postback ${row.id}`, error, true);
          return undefined;
        })
        .then((outcome) => this.finish(row, outcome));
    }
  }

  /** Files one send's outcome (none: it was not sent, or broke) and wakes the drain. */
  private finish(row: ClaimedPostback, outcome: SentPostback | undefined): void {
    const { gate, pace, clock } = this.tools;
    this.inFlight--;
    const error = outcome?.settlement.attempt.error ?? undefined;
    gate.finish(row.tracker, outcome?.health ?? 'up', clock.now(), error);
    if (outcome) {
      if (this.finished.length === 0) this.firstFinishedAt = clock.now();
      this.finished.push(outcome.settlement);
    }
    pace.count(1, clock.now());
    this.tools.signal.wake();
  }

  /**
   * Finished attempts are due for writing: none in flight, half a window's worth, or one that
   * waited SETTLE_DELAY_MS; after a failed write, at its retry.
   */
  private settleDue(now: number, window: number): boolean {
    if (this.finished.length === 0) return false;
    if (this.writeFailures > 0) return now >= this.retryWriteAt;
    return (
      this.inFlight === 0 ||
      this.finished.length >= window / 2 ||
      now - this.firstFinishedAt >= SETTLE_DELAY_MS
    );
  }

  /** The marks of sends still out are due (see PendingMarks), or a failed write's retry. */
  private marksDue(now: number): boolean {
    const markDueAt = this.unmarked.dueAt();
    if (markDueAt === undefined) return false;
    return this.writeFailures > 0 ? now >= this.retryWriteAt : now >= markDueAt;
  }

  /**
   * Writes the finished attempts and the marks due, and claims (when `claim`), in one
   * transaction; the drain goes on sending meanwhile. A failed write keeps its outcomes and
   * marks to try again shortly, and claims nothing more meanwhile.
   */
  private exchange(
    now: number,
    claim: { limit: number; skipTrackers: string[] } | undefined,
    crowded: string[],
  ): void {
    const { store, clock, logger } = this.tools;
    const writing = this.finished.splice(0);
    const marks = this.unmarked.take(now, new Set(writing.map((s) => s.row.id)));
    this.exchanging = this.lastExchange = store
      .exchange(writing, claim, marks)
      .then(
        ({ claimed, lost }) => {
          this.writeFailures = 0;
          reportWrite(logger, writing, lost);
          if (claim) {
            this.queue.push(...claimed);
            // Fewer than asked: nothing more is due for now, but for those skipped.
            this.exhausted = claimed.length < claim.limit;
            this.crowdedAtLastClaim = crowded;
          }
        },
        (error: Error) => {
          this.finished.unshift(...writing);
          if (marks) this.unmarked.putBack(marks);
          this.writeFailures++;
          this.retryWriteAt = clock.now() + WRITE_RETRY_DELAY_MS;
          const what = `Could not record ${writing.length} attempt(s) (try ${this.writeFailures})`;
          logDatabaseError(logger, what, error);
        },
      )
      .finally(() => {
        this.exchanging = undefined;
        this.exchanged++;
        this.tools.signal.wake();
      });
  }
}
