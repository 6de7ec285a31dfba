/**
 * Lets one loop sleep until there is something to do: a wake-up, or `ms` when given.
 *
 * A wake-up that comes while the loop is not asleep (busy elsewhere) ends its next sleep at
 * once, so none is lost. Wake-ups while it sleeps are coalesced: it wakes once the callbacks
 * ready now have run, not at each, since work arrives in bursts (one poll of the sockets
 * hands over several responses) and one pass of the loop can take them all.
 */
export class WakeSignal {
  /** Ends the sleep under way, if any. */
  private wakeSleeper?: () => void;
  /** A wake-up that came while nobody slept. */
  private requested = false;
  /** A wake-up of the sleeper is scheduled. */
  private scheduled = false;

  /** Resolves on the next wake-up, or after `ms` (when given); at once for one missed. */
  sleep(ms?: number): Promise<void> {
    if (this.requested) {
      this.requested = false;
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        // At once, not after the promise settles: a wake-up in between must not be lost.
        this.wakeSleeper = undefined;
        resolve();
      };
      const timer = ms === undefined ? undefined : setTimeout(done, ms);
      this.wakeSleeper = done;
    });
  }

  /** Wakes the sleeper (after the callbacks ready now), or the next sleep at once. */
  wake(): void {
    if (!this.wakeSleeper) {
      this.requested = true;
      return;
    }
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      // Asleep again by now, or still: either way this is a wake-up it asked for.
      if (this.wakeSleeper) this.wakeSleeper();
      else this.requested = true;
    });
  }
}
