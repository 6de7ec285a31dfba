import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  Optional,
} from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';

import type { Clock } from '../common/clock.js';
import { WakeSignal } from '../common/wake-signal.js';
import {
  FLUSH_INTERVAL_NAME,
  POSTBACK_CLOCK,
  POSTBACK_RESOLVED_OPTIONS,
} from '../postback.constants.js';
import { logDatabaseError, safeErrorText, worthLogging } from '../database/safe-error-text.js';
import { PostbackConfigurationError } from '../errors/postback-configuration.error.js';
import type { ResolvedPostbackOptions } from '../options/resolved-options.js';
import { ClaimPace } from './claim-pace.js';
import { type ClaimedPostback, OutboxStore, type Settlement } from './outbox.store.js';
import { PostbackSender } from './postback-sender.js';
import { CoalescedMarks, PendingMarks } from './send-marks.js';
import { TrackerCircuits } from './tracker-circuits.js';
import type { TrackerGate } from './tracker-gate.js';

/** Longest a finished attempt waits in memory before it is written (with those after it). */
const SETTLE_DELAY_MS = 50;
/** After this many failed writes in a row the drain stops claiming and winds down. */
const MAX_WRITE_FAILURES = 5;
const WRITE_RETRY_DELAY_MS = 1_000;
/** Sends whose marks ride with the next exchange go out at once. */
const SENT_UNMARKED = Promise.resolve(true);

/**
 * Sends due postbacks. A tick runs on the schedule and whenever a new conversion nudges it;
 * ticks never overlap (a nudge during a flush wakes the running one to claim again). Up to
 * `concurrency` sends run at once, each tracker within its own limit and circuit breaker
 * (see TrackerGate), so a hanging tracker holds a few slots until its timeout, never all of
 * them. A failure is recorded on the row, never thrown.
 */
@Injectable()
export class OutboxFlusher implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(OutboxFlusher.name);
  private readonly gate: TrackerGate;
  private readonly marks: CoalescedMarks<ClaimedPostback>;
  /** A queued row is only sent with at least this much of its lease left. */
  private readonly minimumLeaseLeftMs: number;
  private running?: Promise<void>;
  private again = false;
  /**
   * Wakes the drain when a send finishes, an exchange lands, or a nudge announces rows, so it
   * refills free slots, files outcomes and claims again.
   */
  private readonly signal = new WakeSignal();
  private stopping = false;
  /** The running drain's claimed rows not yet started (see `beforeApplicationShutdown`). */
  private queued: ClaimedPostback[] = [];
  /** The drain's last exchange (never rejects): its claim may add to `queued`. */
  private exchanging?: Promise<void>;
  private readonly pace: ClaimPace;

  constructor(
    private readonly store: OutboxStore,
    private readonly sender: PostbackSender,
    @Inject(POSTBACK_RESOLVED_OPTIONS) private readonly options: ResolvedPostbackOptions,
    @Inject(POSTBACK_CLOCK) private readonly clock: Clock,
    @Optional() private readonly scheduler?: SchedulerRegistry,
    @Optional() circuits?: TrackerCircuits,
  ) {
    const { leaseMs, timeoutMs } = options.outbox;
    this.minimumLeaseLeftMs = timeoutMs + Math.min(1_000, (leaseMs - timeoutMs) / 2);
    this.pace = new ClaimPace(2 * options.outbox.concurrency, options.outbox.batchSize);
    this.gate = (circuits ?? new TrackerCircuits(options)).gate;
    this.marks = new CoalescedMarks((rows) => store.markSending(rows));
  }

  onApplicationBootstrap(): void {
    if (!this.options.outbox.enabled) return;
    if (!this.scheduler) {
      throw new PostbackConfigurationError([
        'the outbox flusher needs @nestjs/schedule: import ScheduleModule.forRoot() in your app module (or set outbox.enabled: false)',
      ]);
    }
    const timer = setInterval(() => this.nudge(), this.options.outbox.flushIntervalMs);
    this.scheduler.addInterval(FLUSH_INTERVAL_NAME, timer);
    // Rows left due by a previous run (a crash, a restart) go out now, not one interval later.
    this.nudge();
    void this.checkClock();
  }

  /**
   * Warns when this instance's clock and the database's disagree by more than a lease's safety
   * margin: with several instances, one whose clock runs ahead takes over rows another is still
   * sending (each is sent twice, with the same event ID), and a row sent by one that runs
   * behind is taken over later than it should be after a crash.
   */
  private async checkClock(): Promise<void> {
    const measured = await this.store.clockSkew().catch((error: Error) => {
      this.logger.warn(`Could not read the database's clock: ${error.message}`);
      return undefined;
    });
    if (!measured) return;
    const margin = this.minimumLeaseLeftMs - this.options.outbox.timeoutMs;
    const skew = Math.abs(measured.skewMs) - measured.uncertaintyMs;
    if (skew <= margin / 2) return;
    const direction = measured.skewMs > 0 ? 'behind' : 'ahead of';
    this.logger.warn(
      `This instance's clock is ${Math.round(Math.abs(measured.skewMs))} ms ${direction} the database's. Outbox leases are timed by each instance's clock, with a margin of ${margin} ms: keep every instance's clock synchronised (NTP), or instances will send the same postbacks twice.`,
    );
  }

  /** Asks for a flush soon; cheap to call after every commit. No-op when the outbox is off. */
  nudge(): void {
    if (this.stopping || !this.options.outbox.enabled) return;
    void this.flush();
  }

  /** Sends everything due now; resolves when the outbox has nothing more due. */
  flush(): Promise<void> {
    if (this.running) {
      this.again = true;
      this.signal.wake();
      return this.running;
    }
    this.running = this.drain()
      .catch((error: Error) => logDatabaseError(this.logger, 'Outbox flush failed', error, true))
      .finally(() => {
        this.running = undefined;
        if (this.again && !this.stopping) {
          this.again = false;
          void this.flush();
        }
      });
    return this.running;
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    if (this.scheduler?.doesExist('interval', FLUSH_INTERVAL_NAME)) {
      this.scheduler.deleteInterval(FLUSH_INTERVAL_NAME);
    }
    if (!this.running) return;
    // The drain stops starting sends and hands back what it holds but has not started.
    this.signal.wake();
    const grace = () =>
      new Promise<void>((resolve) =>
        setTimeout(resolve, this.options.outbox.shutdownGraceMs).unref(),
      );
    await Promise.race([this.running, grace()]);
    // Claimed by an exchange that lands after the grace period: back now, while the database
    // is still open, not after the lease. (A database that hangs gets one more grace period.)
    await Promise.race([this.exchanging, grace()]);
    if (this.queued.length > 0) await this.handBack(this.queued.splice(0));
  }

  /** Returns claimed rows never attempted; a failure leaves them to their lease. */
  private handBack(rows: ClaimedPostback[]): Promise<void> {
    return this.store.release(rows).catch((error: Error) => {
      this.logger.warn(
        `Could not hand back ${rows.length} claimed postback(s); they go out again once their leases expire: ${error.message}`,
      );
    });
  }

  /**
   * Keeps up to `concurrency` sends in flight, each tracker within its own limit, refilling
   * from claims that skip trackers with no free slot or an open circuit. Rows of a tracker
   * whose circuit opens while they wait go back to the database, due when it may close.
   *
   * The database sees rounds, not single postbacks: finished attempts are written together
   * (after at most SETTLE_DELAY_MS, or once a round's worth has piled up), and a claim rides
   * in the same transaction. One such exchange runs at a time, beside the sends: while the
   * database works (a PostgreSQL round trip, a SQLite commit on the writer thread), the rows
   * still queued keep going out, so the sends never wait for a claim the queue could cover.
   * A crash between a send and its write leaves the row in flight: when its lease expires it
   * is counted as an attempt and sent again, so a tracker may see the postbacks of the last
   * few milliseconds twice (delivery is at least once, with a stable event ID per postback),
   * never none. Rows still queued at the crash were never marked as sending: their expired
   * leases count as lost claims, not attempts (see settleAbandoned); on PostgreSQL and
   * MySQL/MariaDB so do the sends whose marks had yet to ride an exchange (see SendMarks).
   */
  private async drain(): Promise<void> {
    const { concurrency } = this.options.outbox;
    const queue: ClaimedPostback[] = (this.queued = []);
    const finished: Settlement[] = [];
    let inFlight = 0;
    let firstFinishedAt = 0;
    let exhausted = false;
    let crowdedAtLastClaim: string[] = [];
    let writeFailures = 0;
    let retryWriteAt = 0;
    /** The exchange under way, if any. */
    let exchanging: Promise<void> | undefined;
    /** Exchanges finished so far: one that lands after the sends were dispatched means a look. */
    let exchanged = 0;
    /** Sends whose marks wait for an exchange (see `store.marksRideExchanges`). */
    const unmarked = new PendingMarks<ClaimedPostback>(SETTLE_DELAY_MS);
    try {
      while (!this.stopping && writeFailures < MAX_WRITE_FAILURES) {
        if (this.again && !exchanging) {
          // New rows were announced while this drain runs: look again, now. (Not while a claim
          // is under way: it may have looked before they committed, and finding fewer rows than
          // it asked for would mark the outbox exhausted after this nudge was spent.)
          this.again = false;
          exhausted = false;
        }
        const now = this.clock.now();
        const exchangedBeforeDispatch = exchanged;
        const expiring: ClaimedPostback[] = [];
        const starting: ClaimedPostback[] = [];
        for (let i = 0; i < queue.length && inFlight < concurrency;) {
          const row = queue[i];
          // Its lease would run out during the send: another instance could take the row over
          // and send it too. Hand it back instead; a fresh claim renews the lease.
          if (row.nextAttemptAt - now < this.minimumLeaseLeftMs) {
            expiring.push(...queue.splice(i, 1));
            continue;
          }
          if (!this.gate.tryStart(row.tracker, now)) {
            i++;
            continue;
          }
          starting.push(...queue.splice(i, 1));
          inFlight++;
        }
        // Marked as sending (before they go out, or with the next exchange): a lease found
        // expired then tells an attempt that may have reached the tracker from a claim that
        // never left this queue.
        let marked: Promise<boolean> = SENT_UNMARKED;
        if (starting.length > 0 && this.store.marksRideExchanges) {
          unmarked.add(starting, now);
        } else if (starting.length > 0) {
          marked = this.markSending(starting);
        }
        for (const row of starting) {
          void marked
            .then((sent) => (sent ? this.sender.send(row) : undefined))
            .catch((error: Error) => {
              // A bug, not a delivery outcome: the row stays in flight until its lease
              // expires, then counts as an attempt and goes out again.
              logDatabaseError(this.logger, `Postback ${row.id}`, error, true);
              return undefined;
            })
            .then((outcome) => {
              inFlight--;
              const error = outcome?.settlement.attempt.error ?? undefined;
              this.gate.finish(row.tracker, outcome?.health ?? 'up', this.clock.now(), error);
              if (outcome) {
                if (finished.length === 0) firstFinishedAt = this.clock.now();
                finished.push(outcome.settlement);
              }
              this.pace.count(1, this.clock.now());
              this.signal.wake();
            });
        }
        if (expiring.length > 0) await this.store.release(expiring);
        const paused = this.gate.paused(now);
        if (paused.length > 0) await this.parkPaused(queue, now);

        if (!exchanging) {
          const window = this.pace.window(now);
          // Trackers with more than half the window waiting here are not claimed for: a slow
          // tracker must not fill the window. Once one of them thins out, claim again.
          // (Counted only when it matters: this runs after every finished send.)
          const lowQueue = queue.length <= window / 2 || inFlight < concurrency;
          let crowded: string[] = [];
          if ((lowQueue && !exhausted) || (exhausted && crowdedAtLastClaim.length > 0)) {
            crowded = this.crowded(queue, window / 2);
          }
          if (exhausted && crowdedAtLastClaim.some((tracker) => !crowded.includes(tracker))) {
            exhausted = false;
          }
          // Claim when the queue runs low, or when send slots are free but every queued row
          // waits for a busy tracker (another tracker's rows could use them).
          // (Never with a full window: with a tracker allowed fewer slots than `concurrency`,
          // free slots alone would otherwise mean an empty claim after every send.)
          const limit = window - queue.length;
          const wantClaim = !exhausted && writeFailures === 0 && lowQueue && limit > 0;
          const settleNow =
            finished.length > 0 &&
            (writeFailures > 0
              ? now >= retryWriteAt
              : wantClaim ||
                inFlight === 0 ||
                finished.length >= window / 2 ||
                now - firstFinishedAt >= SETTLE_DELAY_MS);
          const markDueAt = unmarked.dueAt();
          const markNow =
            markDueAt !== undefined && (writeFailures > 0 ? now >= retryWriteAt : now >= markDueAt);
          if (settleNow || wantClaim || markNow) {
            // Not claimed now: trackers paused by their circuit (their rows are due when it
            // may close), and crowded ones.
            const skipped = [...paused, ...crowded];
            const writing = finished.splice(0);
            const marks = unmarked.take(now, new Set(writing.map((s) => s.row.id)));
            exchanging = this.store
              .exchange(writing, wantClaim ? { limit, skipTrackers: skipped } : undefined, marks)
              .then(
                ({ claimed, lost }) => {
                  writeFailures = 0;
                  this.report(writing, lost);
                  if (wantClaim) {
                    queue.push(...claimed);
                    // Fewer than asked: nothing more is due for now, but for those skipped.
                    exhausted = claimed.length < limit;
                    crowdedAtLastClaim = crowded;
                  }
                },
                (error: Error) => {
                  // Keep the outcomes and try again shortly; claim nothing more meanwhile.
                  finished.unshift(...writing);
                  if (marks) unmarked.putBack(marks);
                  writeFailures++;
                  retryWriteAt = this.clock.now() + WRITE_RETRY_DELAY_MS;
                  const what = `Could not record ${writing.length} attempt(s) (try ${writeFailures})`;
                  logDatabaseError(this.logger, what, error);
                },
              )
              .finally(() => {
                exchanging = undefined;
                exchanged++;
                this.signal.wake();
              });
            this.exchanging = exchanging;
          }
        }
        if (exchanging === undefined && inFlight === 0 && finished.length === 0) {
          // Done, unless an exchange landed since the dispatch above: its rows go out first.
          if (exchanged === exchangedBeforeDispatch) break;
          continue;
        }
        await this.signal.sleep(
          exchanging
            ? undefined
            : this.untilWrite(
                finished.length > 0 ? firstFinishedAt + SETTLE_DELAY_MS : undefined,
                unmarked.dueAt(),
                writeFailures > 0 ? retryWriteAt : undefined,
              ),
        );
      }
      // Shutdown or a failing database: hand back what was claimed but not started (sends
      // in flight may outlast the grace period), wait for the sends, then write them down.
      while (exchanging) await this.signal.sleep();
      if (queue.length > 0) await this.handBack(queue.splice(0));
      // The sends still in flight may outlast the grace period: their marks go now.
      const stillUnmarked = unmarked.takeAll(new Set(finished.map((s) => s.row.id)));
      if (stillUnmarked) {
        const { rows, at } = stillUnmarked;
        await this.store.markSending(rows, at).catch((error: Error) => {
          const what = `Could not mark ${rows.length} postback(s) in flight as sending; if this worker stops before they finish, they go out again as lost claims, not attempts`;
          logDatabaseError(this.logger, what, error);
        });
      }
      while (inFlight > 0) await this.signal.sleep();
      if (finished.length > 0) {
        try {
          this.report(finished, (await this.store.exchange(finished)).lost);
        } catch (error) {
          // The rows stay in flight; their leases expire and they are sent again.
          const what = `Could not record ${finished.length} attempt(s); those postbacks will be sent again once their leases expire`;
          logDatabaseError(this.logger, what, error);
        }
        finished.length = 0;
      }
    } finally {
      // Claimed but never attempted (a failed claim): hand them back now rather than leave
      // them to wait for their lease to expire.
      if (queue.length > 0) await this.handBack(queue.splice(0));
    }
  }

  /** Trackers with more than `limit` rows waiting in the local queue. */
  private crowded(queue: ClaimedPostback[], limit: number): string[] {
    const waiting = new Map<string, number>();
    for (const row of queue) waiting.set(row.tracker, (waiting.get(row.tracker) ?? 0) + 1);
    return [...waiting].filter(([, count]) => count > limit).map(([tracker]) => tracker);
  }

  /** Logs what the operator must know of a write: lost leases, dead postbacks. */
  private report(written: Settlement[], lost: Settlement[]): void {
    const lostIds = new Set(lost.map((s) => s.row.id));
    for (const { row, change } of written) {
      if (lostIds.has(row.id)) {
        this.logger.warn(
          `Postback ${row.id}: the lease expired during the attempt and another worker owns it now; its outcome stands`,
        );
      } else if (change.state === 'dead') {
        this.logger.error(`Postback ${row.id} to "${row.tracker}" is dead: ${change.lastError}`);
      }
    }
  }

  /** Sends back to the database, due when the circuit may close, rows of paused trackers. */
  private async parkPaused(queue: ClaimedPostback[], now: number): Promise<void> {
    const byResume = new Map<number, ClaimedPostback[]>();
    for (let i = queue.length - 1; i >= 0; i--) {
      const until = this.gate.openUntil(queue[i].tracker, now);
      if (until === undefined) continue;
      byResume.set(until, [...(byResume.get(until) ?? []), ...queue.splice(i, 1)]);
    }
    for (const [until, rows] of byResume) await this.store.release(rows, until);
  }

  /**
   * How long the drain may sleep before a write falls due: finished attempts to settle, marks
   * of sends still out (see PendingMarks), or a failed write's retry, which holds both back.
   * Undefined: nothing to write, sleep until woken.
   */
  private untilWrite(
    settleAt: number | undefined,
    markAt: number | undefined,
    retryWriteAt: number | undefined,
  ): number | undefined {
    if (settleAt === undefined && markAt === undefined) return undefined;
    const at = retryWriteAt ?? Math.min(settleAt ?? Infinity, markAt ?? Infinity);
    return Math.max(0, at - this.clock.now());
  }

  /** Marks rows as sending; false when that fails: then they are not sent (see `drain`). */
  private markSending(rows: ClaimedPostback[]): Promise<boolean> {
    return this.marks.mark(rows).then(
      () => true,
      (error: Error) => {
        if (worthLogging(error)) {
          this.logger.warn(
            `Could not mark ${rows.length} postback(s) as sending, so they were not sent; they go out once their leases expire, as lost claims, not attempts: ${safeErrorText(error)}`,
          );
        }
        return false;
      },
    );
  }
}
