// From node:timers rather than the global: a host's tests with fake timers must not stall
// every write that meets a lock until they advance the clock.
import { setTimeout } from 'node:timers';

import type { DataSource } from 'typeorm';

import { DatabaseUnavailableError } from '../errors/database-unavailable.error.js';
import { SqliteLockGate, writeLockFree } from './sqlite-lock-gate.js';

/**
 * How long one statement of the module waits for a lock held by another process before
 * SQLite gives up (its `busy_timeout`, on the event loop's connection and the writer thread's).
 * better-sqlite3 waits synchronously: every millisecond here is one in which the process
 * serves nothing. The rest of the wait is asynchronous (`SqliteLockWait.retry`).
 */
export const LOCK_PROBE_TIMEOUT_MS = 5;
/** The bound when the connection's own `busy_timeout` cannot be read: SQLite's drivers' usual. */
const DEFAULT_LOCK_WAIT_MS = 5_000;

/** What this needs of a better-sqlite3 connection. */
interface SqliteConnection {
  /** False once closed: better-sqlite3 throws on every call then. */
  readonly open: boolean;
  pragma(source: string, options?: { simple: boolean }): unknown;
  readonly inTransaction: boolean;
  exec(source: string): unknown;
}

/** SQLITE_BUSY and its extended codes (a held write lock, a stale snapshot, a recovery). */
export function isSqliteBusy(error: unknown): boolean {
  const driverError = (error as { driverError?: { code?: unknown } })?.driverError;
  const code = driverError?.code ?? (error as { code?: unknown })?.code;
  return typeof code === 'string' && code.startsWith('SQLITE_BUSY');
}

/**
 * Waits out a write lock another process holds on a SQLite file without holding the event
 * loop: SQLite's busy handler sleeps on the calling thread, so the module's statements probe
 * with LOCK_PROBE_TIMEOUT_MS and a rolled-back unit is queued again when SqliteLockGate sees
 * the lock free. The connection's own `busy_timeout` bounds the whole wait (then
 * DatabaseUnavailableError); on a shared DataSource the short timeout is set only `around`
 * the module's jobs. Details: docs/internals/sqlite-lock.md.
 */
export class SqliteLockWait {
  private boundMs = DEFAULT_LOCK_WAIT_MS;
  private connection?: SqliteConnection;
  /** The host's `busy_timeout`, put back after each job; undefined on a dedicated database. */
  private hostTimeoutMs?: number;
  private readonly gate: SqliteLockGate;

  /**
   * @param dedicated the module owns the connection (`postbackDataSourceOptions()`): the short
   *   timeout is set once and stays
   * @param queued runs a job between the module's others (`PostbackDatabase`'s queue), with
   *   the short timeout: the gate's probes of the lock
   */
  constructor(
    private readonly dataSource: DataSource,
    private readonly dedicated: boolean,
    queued: (job: () => Promise<boolean>) => Promise<boolean> = (job) => job(),
  ) {
    this.gate = new SqliteLockGate(() =>
      queued(async () => writeLockFree(this.connected(), isSqliteBusy)),
    );
  }

  /** Runs one job on the connection with the short busy timeout. */
  async around<T>(job: () => Promise<T>): Promise<T> {
    const connection = this.connected();
    if (connection && this.hostTimeoutMs !== undefined) {
      connection.pragma(`busy_timeout = ${LOCK_PROBE_TIMEOUT_MS}`);
      try {
        return await job();
      } finally {
        // The host may have destroyed its DataSource meanwhile (its app closing).
        if (connection.open) connection.pragma(`busy_timeout = ${this.hostTimeoutMs}`);
      }
    }
    return job();
  }

  /**
   * When a wait for the lock that starts now must end: the bound from now. A caller whose one
   * operation takes several units of work (an event: the pending clicks, then its
   * transaction) gives them all this one deadline, so the whole waits the bound, not each part.
   */
  deadline(): number {
    this.connected(); // reads the bound
    return performance.now() + this.boundMs;
  }

  /**
   * Runs `attempt` (one queued job: a transaction, or statements that are safe to repeat)
   * again, each time the gate opens, while it fails on the lock, until `deadline` (default: the bound from now); then
   * throws DatabaseUnavailableError. With `wait: false` the first SQLITE_BUSY throws it at once.
   */
  async retry<T>(attempt: () => Promise<T>, wait = true, deadline?: number): Promise<T> {
    const until = deadline ?? this.deadline();
    // Tried once even while others wait for the gate: a read needs no write lock (WAL).
    for (;;) {
      try {
        return await attempt();
      } catch (error) {
        if (!isSqliteBusy(error)) throw error;
        if (!wait || !(await this.gate.wait(until))) throw this.timedOut(until, error);
      }
    }
  }

  /**
   * `work` (which waits out the lock on its own schedule, such as the click buffer's write),
   * or DatabaseUnavailableError once `deadline` has passed without it settling. `work` goes on;
   * only this caller stops waiting for it.
   */
  async within<T>(work: Promise<T>, deadline: number): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(this.timedOut(deadline)),
        Math.max(0, deadline - performance.now()),
      );
    });
    try {
      return await Promise.race([work, expired]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** The error of a wait that ends before `deadline`; it says how long since the wait began. */
  private timedOut(deadline: number, cause?: unknown): DatabaseUnavailableError {
    const waited = Math.max(0, performance.now() - (deadline - this.boundMs));
    return new DatabaseUnavailableError(
      `another process holds the SQLite database's write lock (waited ${Math.round(waited)} ms)`,
      Math.max(1, Math.ceil(this.boundMs / 1_000)),
      { cause },
    );
  }

  /**
   * The connection, its timeout read (and on a dedicated one, shortened) the first time it is
   * seen; undefined once closed. TypeORM keeps a destroyed DataSource's closed connection, and
   * a host's DataSource can be destroyed before the module's last job runs: Nest shuts global
   * modules down in the order they were registered, and with Nest 11 the host's TypeOrmModule
   * goes first. The job then runs as it is (and says itself if it needed the database).
   */
  private connected(): SqliteConnection | undefined {
    const connection = (this.dataSource.driver as { databaseConnection?: SqliteConnection })
      .databaseConnection;
    if (!connection?.open) return undefined;
    if (connection === this.connection) return connection;
    this.connection = connection;
    const configured = Number(connection.pragma('busy_timeout', { simple: true }));
    if (Number.isFinite(configured)) this.boundMs = configured;
    if (this.dedicated) connection.pragma(`busy_timeout = ${LOCK_PROBE_TIMEOUT_MS}`);
    else this.hostTimeoutMs = this.boundMs;
    return connection;
  }
}
