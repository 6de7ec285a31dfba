/** How often the flusher's claims look for expired leases and late commits (see `sweptAt`). */
const SWEEP_MS = 1_000;
/** How far behind the floor such a sweep looks: a row is committed within this of its due time. */
const LATE_COMMIT_MS = 1_000;
/** How often they look at the whole due index (see `fullySweptAt`). */
const FULL_SWEEP_MS = 5_000;

/**
 * Where this instance's claims look in the due index: from its floor, a little behind it on a
 * sweep (once a second, with the expired leases), from the bottom on a full sweep. Plain state
 * and arithmetic on the clock's instants: no database.
 */
export class ClaimCursor {
  /**
   * PostgreSQL and MySQL/MariaDB keep a row's old entry in the due index until VACUUM (or
   * InnoDB's purge) removes it, and a claim's index scan walks over the entries of every row
   * claimed before it, by this instance and the others (hundreds per postback on a draining
   * backlog: docs/internals/performance-notes.md). The floor is the due time of the last pending row this
   * instance claimed; its claims start there. SQLite updates its index in place: no floor.
   */
  private pendingFloor: number | undefined;
  /**
   * When a claim last looked for expired leases, and (with a floor) a little behind the floor,
   * for rows committed a moment after their due time. The flusher's claims do so once every
   * SWEEP_MS; a claim `always` sweeping (a test's) at once.
   */
  private sweptAt = Number.NEGATIVE_INFINITY;
  /**
   * When a claim last started from the bottom of the due index, for whatever else the floor
   * passed: a reversal whose original was still on its way, rows of a claim that rolled back.
   * Once every FULL_SWEEP_MS, not every second: on a draining backlog the bottom of the index
   * is every row drained so far. Also as soon as a tracker skipped before is claimed for again,
   * since its rows were passed over meanwhile.
   */
  private fullySweptAt = Number.NEGATIVE_INFINITY;
  private skippedBefore = new Set<string>();

  /** `keepsFloor`: false on SQLite (one process, an index updated in place). */
  constructor(private readonly keepsFloor: boolean) {}

  /** Notes the due time of the last pending row claimed (see `pendingFloor`). */
  noteFloor(dueAt: number): void {
    this.pendingFloor = dueAt;
  }

  /** Whether a claim now would sweep: a steady round, which never sweeps, must not claim. */
  sweepDue(now: number): boolean {
    return now - this.sweptAt >= SWEEP_MS;
  }

  /**
   * Whether this claim sweeps (looks for expired leases) and where its pending rows start:
   * the floor, a little behind it on a sweep, the bottom on a full sweep (see the fields).
   */
  range(now: number, skip: string[], always: boolean): { sweeping: boolean; from?: number } {
    const released = [...this.skippedBefore].some((tracker) => !skip.includes(tracker));
    this.skippedBefore = new Set(skip);
    const sweeping = always || now - this.sweptAt >= SWEEP_MS;
    if (sweeping) this.sweptAt = now;
    const floor = this.pendingFloor;
    if (!this.keepsFloor) return { sweeping };
    if (floor === undefined || always || released || now - this.fullySweptAt >= FULL_SWEEP_MS) {
      this.fullySweptAt = now;
      return { sweeping };
    }
    return { sweeping, from: sweeping ? floor - LATE_COMMIT_MS : floor };
  }
}
