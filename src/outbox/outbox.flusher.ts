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
import {
  FLUSH_INTERVAL_NAME,
  POSTBACK_CLOCK,
  POSTBACK_RESOLVED_OPTIONS,
} from '../postback.constants.js';
import { PostbackConfigurationError } from '../postback-configuration.error.js';
import { buildPostbackRequest } from '../postback/postback-request.builder.js';
import { secretRedactor } from '../postback/secret-redactor.js';
import type { ResolvedPostbackOptions } from '../resolve-postback-options.js';
import type { AttemptRecord } from './outbox.store.js';
import { OutboxStore } from './outbox.store.js';
import { type DeliveryVerdict, judgeAttempt } from './delivery-verdict.js';
import { PostbackHttpClient, type SendResult } from './postback-http.client.js';
import type { Postback } from './postback.entity.js';
import { healthOf, TrackerGate, type TrackerHealth } from './tracker-gate.js';

/**
 * Sends due postbacks. A tick runs on the schedule and whenever a new conversion nudges it;
 * ticks never overlap (a nudge during a flush wakes the running one to claim again). Up to
 * `concurrency` sends run at once, each tracker within its own limit and circuit breaker
 * (see TrackerGate), so a hanging tracker holds a few slots until its timeout, never all of
 * them. A failure is recorded on the row, never thrown.
 */
@Injectable()
export class OutboxFlusher implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('PostbackOutbox');
  private readonly gate: TrackerGate;
  /** A queued row is only sent with at least this much of its lease left. */
  private readonly minimumLeaseLeftMs: number;
  private running?: Promise<void>;
  private again = false;
  /** Wakes a drain that waits on sends in flight, so it claims what a nudge announced. */
  private wake?: () => void;
  private stopping = false;

  constructor(
    private readonly store: OutboxStore,
    private readonly http: PostbackHttpClient,
    @Inject(POSTBACK_RESOLVED_OPTIONS) private readonly options: ResolvedPostbackOptions,
    @Inject(POSTBACK_CLOCK) private readonly clock: Clock,
    @Optional() private readonly scheduler?: SchedulerRegistry,
  ) {
    const { leaseMs, timeoutMs } = options.outbox;
    this.minimumLeaseLeftMs = timeoutMs + Math.min(1_000, (leaseMs - timeoutMs) / 2);
    this.gate = new TrackerGate(
      (tracker) => options.trackers.get(tracker)?.concurrency ?? 1,
      options.outbox.circuitBreaker,
    );
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
      this.wake?.();
      return this.running;
    }
    this.running = this.drain()
      .catch((error: Error) =>
        this.logger.error(`Outbox flush failed: ${error.message}`, error.stack),
      )
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
    const grace = new Promise<void>((resolve) =>
      setTimeout(resolve, this.options.outbox.shutdownGraceMs).unref(),
    );
    await Promise.race([this.running, grace]);
  }

  /**
   * Keeps up to `concurrency` sends in flight, each tracker within its own limit, refilling
   * from claims that skip trackers with no free slot or an open circuit. Rows of a tracker
   * whose circuit opens while they wait go back to the database, due when it may close.
   */
  private async drain(): Promise<void> {
    const { batchSize, concurrency } = this.options.outbox;
    const queue: Postback[] = [];
    const inFlight = new Set<Promise<void>>();
    let exhausted = false;
    try {
      while (!this.stopping) {
        if (this.again) {
          // New rows were announced while this drain runs: look again, now.
          this.again = false;
          exhausted = false;
        }
        const now = this.clock.now();
        const expiring: Postback[] = [];
        for (let i = 0; i < queue.length && inFlight.size < concurrency;) {
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
          queue.splice(i, 1);
          const send: Promise<void> = this.deliver(row)
            .catch((): TrackerHealth => 'up') // deliver() records its own failures
            .then((health) => {
              this.gate.finish(row.tracker, health, this.clock.now());
              inFlight.delete(send);
            });
          inFlight.add(send);
        }
        if (expiring.length > 0) await this.store.release(expiring);
        await this.parkPaused(queue, now);
        // Claim no more than about two rounds of sends: a claimed row's lease runs while it
        // waits here, so a deep local queue would let leases expire before their turn.
        const room = Math.min(batchSize, 2 * concurrency) - queue.length - inFlight.size;
        if (!exhausted && room > 0) {
          const skipped = this.gate.unavailable(now);
          const rows = await this.store.claimDue(room, skipped);
          queue.push(...rows);
          if (rows.length > 0) continue;
          // Nothing claimable. Unless trackers were skipped for want of a free slot (a send
          // finishing below reopens them), the outbox has nothing more due for now.
          if (skipped.length === 0) exhausted = true;
        }
        if (inFlight.size === 0) break;
        await Promise.race([...inFlight, new Promise<void>((resolve) => (this.wake = resolve))]);
        this.wake = undefined;
      }
      await Promise.all(inFlight);
    } finally {
      // Claimed but never attempted (shutdown, or a failed claim): hand them back now
      // rather than leave them to wait for their lease to expire.
      if (queue.length > 0) await this.store.release(queue.splice(0));
    }
  }

  /** Sends back to the database, due when the circuit may close, rows of paused trackers. */
  private async parkPaused(queue: Postback[], now: number): Promise<void> {
    const byResume = new Map<number, Postback[]>();
    for (let i = queue.length - 1; i >= 0; i--) {
      const until = this.gate.openUntil(queue[i].tracker, now);
      if (until === undefined) continue;
      byResume.set(until, [...(byResume.get(until) ?? []), ...queue.splice(i, 1)]);
    }
    for (const [until, rows] of byResume) await this.store.release(rows, until);
  }

  /** Sends one postback and records the outcome; says whether the tracker answered. */
  private async deliver(row: Postback): Promise<TrackerHealth> {
    const attempt = row.attempts + 1;
    const startedAt = this.clock.now();
    const tracker = this.options.trackers.get(row.tracker);
    let requestUrl = '';
    let result: SendResult | undefined;
    let verdict: DeliveryVerdict;
    const original = row.afterPostbackId
      ? await this.store.stateOf(row.afterPostbackId)
      : 'delivered';
    if (!tracker) {
      verdict = { outcome: 'dead', reason: `tracker "${row.tracker}" is no longer configured` };
    } else if (original !== 'delivered' && original !== undefined) {
      // (Only delivered rows are ever purged: an original that is gone was delivered.)
      verdict = {
        outcome: 'dead',
        reason: `the original conversion's postback was never delivered (${original}); there is nothing to reverse`,
      };
    } else {
      try {
        const request = buildPostbackRequest(tracker, row.fields, row.id, startedAt);
        requestUrl = request.redactedUrl;
        result = await this.http.send(request);
        verdict = judgeAttempt(result, attempt, tracker, this.clock.now());
      } catch (error) {
        verdict = {
          outcome: 'dead',
          reason: `cannot build the postback: ${(error as Error).message}`,
        };
      }
    }
    // Nothing the tracker sent back is stored or logged before its secrets are taken out.
    const redact = secretRedactor(tracker);
    if (verdict.outcome !== 'delivered') verdict = { ...verdict, reason: redact(verdict.reason) };
    const excerpt = result?.body?.slice(0, this.options.outbox.responseExcerptBytes);
    const record: AttemptRecord = {
      attempt,
      startedAt,
      durationMs: result?.durationMs ?? 0,
      requestUrl,
      statusCode: result?.status ?? null,
      outcome: verdict.outcome,
      error: verdict.outcome === 'delivered' ? null : verdict.reason,
      responseExcerpt: excerpt === undefined ? null : redact(excerpt),
    };
    try {
      const settled = await this.store.settle(
        row,
        record,
        this.changeFor(verdict, attempt, result),
      );
      if (!settled) {
        this.logger.warn(
          `Postback ${row.id}: the lease expired during the attempt and another worker owns it now; its outcome stands`,
        );
      } else if (verdict.outcome === 'dead') {
        this.logger.error(`Postback ${row.id} to "${row.tracker}" is dead: ${verdict.reason}`);
      }
    } catch (error) {
      // The row stays in flight and falls due again when its lease expires.
      this.logger.error(
        `Postback ${row.id}: could not record the attempt: ${(error as Error).message}`,
      );
    }
    return result ? healthOf(result.status) : 'up';
  }

  private changeFor(
    verdict: DeliveryVerdict,
    attempt: number,
    result?: SendResult,
  ): Partial<Postback> {
    const common = { attempts: attempt, lastStatus: result?.status ?? null };
    switch (verdict.outcome) {
      case 'delivered':
        return { ...common, state: 'delivered', deliveredAt: this.clock.now(), lastError: null };
      case 'retry':
        return {
          ...common,
          state: 'pending',
          nextAttemptAt: verdict.nextAttemptAt,
          lastError: verdict.reason,
        };
      case 'dead':
        return { ...common, state: 'dead', lastError: verdict.reason };
    }
  }
}
