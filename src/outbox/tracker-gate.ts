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

interface TrackerState {
  inFlight: number;
  failures: number;
  circuit: 'closed' | 'open' | 'half_open';
  openUntil: number;
  cooldownMs: number;
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
  ) {}

  /** Takes a slot for a send to `tracker` if its limit and circuit allow one now. */
  tryStart(tracker: string, now: number): boolean {
    const state = this.stateOf(tracker);
    if (state.circuit === 'open') {
      if (now < state.openUntil) return false;
      state.circuit = 'half_open';
    }
    const limit = state.circuit === 'half_open' ? 1 : this.limits(tracker);
    if (state.inFlight >= limit) return false;
    state.inFlight++;
    return true;
  }

  /** Gives the slot back and learns from the attempt. */
  finish(tracker: string, health: TrackerHealth, now: number): void {
    const state = this.stateOf(tracker);
    state.inFlight = Math.max(0, state.inFlight - 1);
    if (health === 'up') {
      state.failures = 0;
      state.circuit = 'closed';
      state.cooldownMs = this.options.cooldownMs;
      return;
    }
    state.failures++;
    if (state.circuit === 'half_open') {
      state.cooldownMs = Math.min(state.cooldownMs * 2, this.options.maxCooldownMs);
      this.open(state, now);
    } else if (state.circuit === 'closed' && state.failures >= this.options.failureThreshold) {
      this.open(state, now);
    }
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

  private open(state: TrackerState, now: number): void {
    state.circuit = 'open';
    state.openUntil = now + state.cooldownMs;
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
