import { Inject, Injectable, Logger } from '@nestjs/common';

import { POSTBACK_RESOLVED_OPTIONS } from '../postback.constants.js';
import type { ResolvedPostbackOptions } from '../options/resolved-options.js';
import { type CircuitTransition, type PausedTracker, TrackerGate } from './tracker-gate.js';

/**
 * The process's tracker gate (send slots and circuit breakers, see TrackerGate), shared by
 * the flusher that uses it and `/health` that shows it. Each change of a circuit is logged
 * once, when it happens, with the tracker and the reason: a paused tracker is never silent.
 *
 * @publicApi
 */
@Injectable()
export class TrackerCircuits {
  readonly gate: TrackerGate;
  private readonly logger = new Logger(TrackerCircuits.name);

  constructor(
    @Inject(POSTBACK_RESOLVED_OPTIONS) private readonly options: ResolvedPostbackOptions,
  ) {
    this.gate = new TrackerGate(
      (tracker) => options.trackers.get(tracker)?.concurrency ?? 1,
      options.outbox.circuitBreaker,
      (change) => this.log(change),
    );
  }

  /** Trackers whose circuit is open or probing, and when each is next probed. */
  paused(now = this.options.clock.now()): PausedTracker[] {
    return this.gate.pausedTrackers(now);
  }

  private log(change: CircuitTransition): void {
    const tracker = `Tracker "${change.tracker}"`;
    const reason = change.reason ? ` (${change.reason})` : '';
    if (change.to === 'half_open') {
      this.logger.log(`${tracker}: circuit half-open, one postback goes out as a probe`);
    } else if (change.to === 'closed') {
      this.logger.log(`${tracker}: circuit closed, the tracker answers again; sending resumes`);
    } else {
      const next = new Date(change.openUntil as number).toISOString();
      const why = change.probeFailed
        ? `the probe failed${reason}; circuit open again`
        : `circuit opened after ${change.failures} consecutive failures${reason}`;
      this.logger.warn(
        `${tracker}: ${why}; its postbacks wait in the database, next probe at ${next}`,
      );
    }
  }
}
