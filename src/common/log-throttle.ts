/**
 * Lets a repeated log line through at most once per interval and counts the ones held back,
 * so a flood (every landing refused while the database is down) cannot flood the log too.
 */
export class LogThrottle {
  private last = Number.NEGATIVE_INFINITY;
  private heldBack = 0;

  constructor(
    private readonly intervalMs: number,
    // Wall time, not the module's clock: tests move that one by days.
    private readonly now: () => number = Date.now,
  ) {}

  /** Calls `log` with the number of lines held back since the last one, or holds this one back. */
  log(write: (heldBack: number) => void): void {
    const now = this.now();
    if (now - this.last < this.intervalMs) {
      this.heldBack++;
      return;
    }
    const heldBack = this.heldBack;
    this.last = now;
    this.heldBack = 0;
    write(heldBack);
  }
}
