import type { TrackerCircuits } from '../outbox/tracker-circuits.js';

/** A paused tracker as `/health` shows it. */
export interface PausedTrackerView {
  tracker: string;
  /** `open`: waiting for the next probe; `half_open`: the probe is under way. */
  circuit: 'open' | 'half_open';
  nextProbeAt: string;
  failures: number;
  reason: string | null;
}

/**
 * The trackers this process has paused (circuit open or probing) and when each is next
 * probed, for `/health`. A paused tracker does not make the agent unhealthy: its postbacks
 * wait in the database and the backlog shows in the outbox counts.
 */
export function pausedTrackers(circuits: TrackerCircuits): PausedTrackerView[] {
  return circuits.paused().map((paused) => ({
    tracker: paused.tracker,
    circuit: paused.circuit,
    nextProbeAt: new Date(paused.nextProbeAt).toISOString(),
    failures: paused.failures,
    reason: paused.reason ?? null,
  }));
}
