/** Roughly how much sending the flusher keeps claimed ahead: this long at the recent pace. */
const HORIZON_MS = 200;
const SAMPLE_MS = 1_000;
/** A sample under way counts once it is this long, if it shows a faster pace than the last. */
const EARLY_SAMPLE_MS = 100;

/**
 * How many rows the flusher holds claimed (queued or in flight). Claiming costs a
 * transaction, so at speed the flusher claims big batches; but a claimed row's lease runs
 * while it waits, and a row held here cannot be sent by another instance, so a slow tracker's
 * rows stay in the database. The answer is about HORIZON_MS of sends at the pace of the last
 * second, never less than `min` (two rounds of sends) nor more than `max` (`batchSize`).
 * A pace that picks up shows within EARLY_SAMPLE_MS: a drain starting on a backlog would
 * otherwise claim (and commit) two rounds at a time for its whole first second.
 */
export class ClaimPace {
  private readonly max: number;
  private sampleStart = 0;
  private counted = 0;
  /** Sends finished per millisecond over the last full sample. */
  private rate = 0;

  constructor(
    private readonly min: number,
    max: number,
  ) {
    this.max = Math.max(min, max);
  }

  /** Notes `n` finished sends. */
  count(n: number, now: number): void {
    this.roll(now);
    this.counted += n;
  }

  /** How many rows to hold claimed now. */
  window(now: number): number {
    this.roll(now);
    const elapsed = now - this.sampleStart;
    // Early only on a clear burst (several rounds' worth): a trickle waits for the full sample.
    const early = elapsed >= EARLY_SAMPLE_MS && this.counted >= 4 * this.min;
    const rate = early ? Math.max(this.rate, this.counted / elapsed) : this.rate;
    return Math.min(this.max, Math.max(this.min, Math.ceil(rate * HORIZON_MS)));
  }

  private roll(now: number): void {
    const elapsed = now - this.sampleStart;
    if (elapsed < SAMPLE_MS) return;
    // An idle stretch counts as slow: the next burst starts small and grows within a second.
    this.rate = elapsed > 2 * SAMPLE_MS ? 0 : this.counted / elapsed;
    this.sampleStart = now;
    this.counted = 0;
  }
}

/**
 * Trackers with more than `limit` rows waiting in the flusher's `queue`: a claim skips them,
 * so a slow tracker cannot fill the window.
 */
export function crowdedTrackers(queue: { tracker: string }[], limit: number): string[] {
  const waiting = new Map<string, number>();
  for (const row of queue) waiting.set(row.tracker, (waiting.get(row.tracker) ?? 0) + 1);
  return [...waiting].filter(([, count]) => count > limit).map(([tracker]) => tracker);
}
