/**
 * Runs `probe` every `Retry-After` while `failing()` holds, and stops by itself once it no
 * longer does: an app with no `/health` route, or an idle one, would otherwise say writes are
 * failing (and log no end to the incident) until its next unit of work.
 */
export class ProbeWhileFailing {
  private timer?: ReturnType<typeof setInterval>;

  constructor(
    private readonly failing: () => boolean,
    private readonly probe: () => void,
  ) {}

  /** Starts probing, unless it already is. */
  start(everySeconds: number): void {
    if (this.timer) return;
    this.timer = setInterval(
      () => (this.failing() ? this.probe() : this.stop()),
      Math.max(1, everySeconds) * 1000,
    );
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }
}
