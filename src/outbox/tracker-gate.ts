/** What an attempt says about the tracker's health (not about the postback). */
export type TrackerHealth = 'up' | 'down';

export interface CircuitOptions {
  /** Consecutive failed attempts (no answer, timeout, 408/425/429, 5xx) that open the circuit. */
  failureThreshold: number;
  /** First pause after the circuit opens; doubles after each failed probe. */
  cooldownMs: number;
  /** Longest pause. */
  maxCooldownMs: number;
}

export type CircuitState = 'closed' | 'open' | 'half_open';

interface TrackerState {
  inFlight: number;
  failures: number;
  circuit: CircuitState;
  openUntil: number;
  cooldownMs: number;
  /** The last failure's reason, while the circuit is not closed. */
  reason?: string;
}

/** A change of a tracker's circuit, told once, when it happens. */
export interface CircuitTransition {
  tracker: string;
  to: CircuitState;
  /** Consecutive failures so far (0 once closed). */
  failures: number;
  /** The failure that opened it (or failed the probe). */
  reason?: string;
  /** When the next probe may go out, once open. */
  openUntil?: number;
  /** Opened after a failed probe rather than after `failureThreshold` failures. */
  probeFailed?: boolean;
}

/** A tracker whose circuit is not closed: its postbacks wait for a probe. */
export interface PausedTracker {
  tracker: string;
  circuit: Exclude<CircuitState, 'closed'>;
  /** When the next probe may go out (for a probing circuit: its probe is under way). */
  nextProbeAt: number;
  failures: number;
  reason?: string;
}

/**
 * Per-process isolation between trackers. Each tracker may hold at most its own number of
 * send slots, so a slow or hanging one cannot take all of them. A tracker that keeps failing
 * gets its circuit opened: its postbacks wait in the database (not in a slot) until the
 * cooldown ends, then one probe goes out; success closes the circuit, failure reopens it with
 * a longer pause. Healthy trackers are never slowed by it.
 */
export class TrackerGate {
  private readonly states = new Map<string, TrackerState>();

  constructor(
    private readonly limits: (tracker: string) => number,
    private readonly options: CircuitOptions,
    private readonly onTransition: (change: CircuitTransition) => void = () => undefined,
  ) {}

  /** Takes a slot for a send to `tracker` if its limit and circuit allow one now. */
  tryStart(tracker: string, now: number): boolean {
    const state = this.stateOf(tracker);
    if (state.circuit === 'open') {
      if (now < state.openUntil) return false;
      state.circuit = 'half_open';
      this.tell(tracker, state);
    }
    const limit = state.circuit === 'half_open' ? 1 : this.limits(tracker);
    if (state.inFlight >= limit) return false;
    state.inFlight++;
    return true;
  }

  /** Gives the slot back and learns from the attempt (`reason`: why it failed, if it did). */
  finish(tracker: string, health: TrackerHealth, now: number, reason?: string): void {
    const state = this.stateOf(tracker);
    state.inFlight = Math.max(0, state.inFlight - 1);
    if (health === 'up') {
      const wasClosed = state.circuit === 'closed';
      state.failures = 0;
      state.circuit = 'closed';
      state.cooldownMs = this.options.cooldownMs;
      state.reason = undefined;
      if (!wasClosed) this.tell(tracker, state);
      return;
    }
    state.failures++;
    if (state.circuit === 'half_open') {
      state.cooldownMs = Math.min(state.cooldownMs * 2, this.options.maxCooldownMs);
      this.open(tracker, state, now, reason, true);
    } else if (state.circuit === 'closed' && state.failures >= this.options.failureThreshold) {
      this.open(tracker, state, now, reason, false);
    }
  }

  /** Trackers whose circuit is open or probing, for `/health`. */
  pausedTrackers(now: number): PausedTracker[] {
    const paused: PausedTracker[] = [];
    for (const [tracker, state] of this.states) {
      if (state.circuit === 'closed') continue;
      const { circuit, failures, reason } = state;
      paused.push({
        tracker,
        circuit,
        nextProbeAt: Math.max(now, state.openUntil),
        failures,
        reason,
      });
    }
    return paused;
  }

  /** When the circuit of `tracker` lets a probe through, if it is open now. */
  openUntil(tracker: string, now: number): number | undefined {
    const state = this.states.get(tracker);
    return state?.circuit === 'open' && now < state.openUntil ? state.openUntil : undefined;
  }

  /** Trackers whose circuit is open now: their rows wait in the database until it may close. */
  paused(now: number): string[] {
    const paused: string[] = [];
    for (const [tracker, state] of this.states) {
      if (state.circuit === 'open' && now < state.openUntil) paused.push(tracker);
    }
    return paused;
  }

  circuitOf(tracker: string): TrackerState['circuit'] {
    return this.stateOf(tracker).circuit;
  }

  private open(
    tracker: string,
    state: TrackerState,
    now: number,
    reason: string | undefined,
    probeFailed: boolean,
  ): void {
    state.circuit = 'open';
    state.openUntil = now + state.cooldownMs;
    state.reason = reason;
    this.tell(tracker, state, probeFailed);
  }

  private tell(tracker: string, state: TrackerState, probeFailed = false): void {
    this.onTransition({
      tracker,
      to: state.circuit,
      failures: state.failures,
      reason: state.reason,
      ...(state.circuit === 'open' && { openUntil: state.openUntil, probeFailed }),
    });
  }

  private stateOf(tracker: string): TrackerState {
    let state = this.states.get(tracker);
    if (!state) {
      state = {
        inFlight: 0,
        failures: 0,
        circuit: 'closed',
        openUntil: 0,
        cooldownMs: this.options.cooldownMs,
      };
      this.states.set(tracker, state);
    }
    return state;
  }
}

/** A tracker that answered (even with a refusal) is up; silence, 408/425/429 and 5xx are down. */
export function healthOf(status: number | undefined): TrackerHealth {
  if (status === undefined) return 'down';
  if (status === 408 || status === 425 || status === 429 || status >= 500) return 'down';
  return 'up';
}
