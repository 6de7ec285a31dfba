// From node:timers rather than the global: a host's tests with fake timers must not stall
// every write that meets a lock until they advance the clock.
import { setTimeout } from 'node:timers';

/** First pause before the gate probes the lock again; it doubles from there. */
const FIRST_PROBE_DELAY_MS = 5;
/** Longest pause between two probes: a released lock is seen within this, or a bit more. */
const MAX_PROBE_DELAY_MS = 200;

/**
 * One wait per connection for another process's write lock: each probe holds the event loop
 * up to the short busy timeout, so the gate alone probes, on one growing schedule, and opens
 * for every waiting caller when the lock looks free.
 */
export class SqliteLockGate {
  /** Settles when a probe found the lock free (or nobody waits any more). */
  private opened?: Promise<void>;
  private waiters = 0;

  /** @param probe whether the write lock can be taken now (a cheap `BEGIN IMMEDIATE`) */
  constructor(private readonly probe: () => Promise<boolean>) {}

  /** True once a probe found the lock free; false when `deadline` came first. */
  async wait(deadline: number): Promise<boolean> {
    this.opened ??= this.probing();
    this.waiters++;
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        this.opened.then(() => true),
        new Promise<boolean>((resolve) => {
          timer = setTimeout(() => resolve(false), Math.max(0, deadline - performance.now()));
        }),
      ]);
    } finally {
      clearTimeout(timer);
      this.waiters--;
    }
  }

  private async probing(): Promise<void> {
    for (let delay = FIRST_PROBE_DELAY_MS; ; delay = Math.min(2 * delay, MAX_PROBE_DELAY_MS)) {
      await new Promise((resolve) => setTimeout(resolve, delay));
      // A failing probe is no reason to hold the callers: their own try will say what fails.
      if (this.waiters === 0 || (await this.probe().catch(() => true))) break;
    }
    this.opened = undefined;
  }
}

/** What the probe needs of a better-sqlite3 connection. */
interface ProbedConnection {
  readonly inTransaction: boolean;
  exec(source: string): unknown;
}

/**
 * Whether the write lock can be taken now: `BEGIN IMMEDIATE` and straight back. Run it with
 * the short busy timeout, between the module's jobs. A transaction open on the connection
 * (a host's, on a shared DataSource) means the callers' own tries must tell: true.
 */
export function writeLockFree(
  connection: ProbedConnection | undefined,
  isBusy: (error: unknown) => boolean,
): boolean {
  if (!connection || connection.inTransaction) return true;
  try {
    connection.exec('BEGIN IMMEDIATE');
  } catch (error) {
    return !isBusy(error);
  }
  connection.exec('ROLLBACK');
  return true;
}
