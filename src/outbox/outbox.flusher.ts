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
import { logDatabaseError } from '../database/safe-error-text.js';
import { PostbackConfigurationError } from '../errors/postback-configuration.error.js';
import type { ResolvedPostbackOptions } from '../options/resolved-options.js';
import { ClaimPace } from './claim-pace.js';
import { DrainRound } from './drain-round.js';
import type { DrainTools } from './drain-tools.js';
import { OutboxStore } from './outbox.store.js';
import { PostbackSender } from './postback-sender.js';
import { CoalescedMarks } from './send-marks.js';
import { TrackerCircuits } from './tracker-circuits.js';
import type { TrackerGate } from './tracker-gate.js';

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
  /** What every drain works with (see DrainRound). */
  private readonly tools: DrainTools;
  /** The running (or last) drain: shutdown hands back its claimed rows not yet started. */
  private round?: DrainRound;

  constructor(
    private readonly store: OutboxStore,
    sender: PostbackSender,
    @Inject(POSTBACK_RESOLVED_OPTIONS) private readonly options: ResolvedPostbackOptions,
    @Inject(POSTBACK_CLOCK) private readonly clock: Clock,
    @Optional() private readonly scheduler?: SchedulerRegistry,
    @Optional() circuits?: TrackerCircuits,
  ) {
    const { leaseMs, timeoutMs } = options.outbox;
    this.minimumLeaseLeftMs = timeoutMs + Math.min(1_000, (leaseMs - timeoutMs) / 2);
    this.gate = (circuits ?? new TrackerCircuits(options)).gate;
    this.tools = {
      store,
      sender,
      gate: this.gate,
      pace: new ClaimPace(2 * options.outbox.concurrency, options.outbox.batchSize),
      marks: new CoalescedMarks((rows) => store.markSending(rows)),
      signal: this.signal,
      clock,
      logger: this.logger,
      concurrency: options.outbox.concurrency,
      minimumLeaseLeftMs: this.minimumLeaseLeftMs,
    };
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
    await Promise.race([this.round?.lastExchange, grace()]);
    await this.round?.handBackQueue();
  }

  /**
   * Keeps up to `concurrency` sends in flight, each tracker within its own limit, refilling
   * from claims that skip trackers with no free slot or an open circuit. Rows of a tracker
   * whose circuit opens while they wait go back to the database, due when it may close.
   *
   * The database sees rounds, not single postbacks: finished attempts are written together
   * (after at most SETTLE_DELAY_MS (drain-round.ts), or once a round's worth has piled up), and a claim rides
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
    const round = (this.round = new DrainRound(this.tools));
    try {
      while (!this.stopping && round.writable) {
        if (this.again && !round.exchanging) {
          // New rows were announced while this drain runs: look again, now. (Not while a claim
          // is under way: it may have looked before they committed, and finding fewer rows than
          // it asked for would mark the outbox exhausted after this nudge was spent.)
          this.again = false;
          round.lookAgain();
        }
        const now = this.clock.now();
        const exchangedBeforeDispatch = round.exchanged;
        const expiring = round.dispatch(now);
        if (expiring.length > 0) await this.store.release(expiring);
        const paused = this.gate.paused(now);
        if (paused.length > 0) await round.parkPaused(now);
        if (!round.exchanging) round.exchangeIfDue(now, paused);
        if (round.idle) {
          // Done, unless an exchange landed since the dispatch above: its rows go out first.
          if (round.exchanged === exchangedBeforeDispatch) break;
          continue;
        }
        await this.signal.sleep(round.sleepMs());
      }
      await round.windDown();
    } finally {
      // Claimed but never attempted (a failed claim): hand them back now rather than leave
      // them to wait for their lease to expire.
      await round.handBackQueue();
    }
  }
}
