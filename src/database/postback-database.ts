import type { OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import type { DataSource, EntityManager } from 'typeorm';

import { isDedicatedPostbackDatabase } from './dedicated-database.js';
import { asUnavailable } from './database-unavailable.classifier.js';
import { DatabaseUnavailableError } from '../errors/database-unavailable.error.js';
import { dialectOf } from './dialect/dialect-of.js';
import type { SqlDialect } from './dialect/sql-dialect.js';
import { DatabaseWriteHealth } from './database-write-health.js';
import { GroupCommit } from './group-commit.js';
import { serverTransaction, type TransactionOptions } from './server-transaction.js';
import { isSqliteBusy, SqliteLockWait } from './sqlite-lock-wait.js';
import { sqliteAutocommit, sqliteTransaction } from './sqlite-transaction.js';
import type { SqliteWriterThread, WriterResult, WriterStatement } from './sqlite-writer-thread.js';
import { startSqliteWriter } from './start-sqlite-writer.js';
import { asQueryFailed } from './typeorm-compat.js';
import { withoutStatement } from './without-statement.js';
import { ProbeWhileFailing } from './probe-while-failing.js';
import { probeWrite } from './write-probe.js';

export interface PostbackDatabaseOptions {
  /**
   * On a SQLite file, run the hot write paths' batches (outbox rounds, click batches) on a
   * worker thread with a connection of its own (see SqliteWriterThread). Ignored on other
   * engines and on `:memory:`.
   */
  sqliteWriterThread?: boolean;
}

/**
 * The module's only way into the database.
 *
 * TypeORM's SQLite drivers run everything on one connection: two overlapping transactions
 * collide ("cannot start a transaction within a transaction"), and a plain write issued while
 * another caller's transaction is open silently joins it. On SQLite every unit of work is
 * therefore queued behind the previous one (better-sqlite3 is synchronous, so the queue costs
 * little). PostgreSQL and MySQL/MariaDB use the pool as usual.
 *
 * On a better-sqlite3 file, work that meets a write lock held by another process waits for
 * it asynchronously, up to the connection's `busy_timeout` (see SqliteLockWait): the event
 * loop never sleeps in SQLite's busy handler for more than a few milliseconds.
 *
 * A unit of work that fails because the database cannot work now (full, failing disk, lost
 * server, lock held too long) rejects with DatabaseUnavailableError, and `writeHealth` says
 * writes are failing until one succeeds again.
 */
export class PostbackDatabase implements OnApplicationBootstrap, OnApplicationShutdown {
  /** What differs between the engines, chosen once for this DataSource (see SqlDialect). */
  readonly dialect: SqlDialect;
  /** One connection: every unit of work is queued here (SQLite; see `SqlDialect.serialised`). */
  readonly serialised: boolean;
  private tail: Promise<unknown> = Promise.resolve();
  private readonly groupCommit: GroupCommit;
  /** Whether batches go to a writer thread (a SQLite file, and asked for). */
  private readonly writerWanted: boolean;
  private writer?: SqliteWriterThread;
  /** On better-sqlite3: waits out another process's write lock off the event loop. */
  private readonly lockWait?: SqliteLockWait;
  readonly writeHealth = new DatabaseWriteHealth();
  private probe?: Promise<void>;
  private readonly probing = new ProbeWhileFailing(
    () => this.writeHealth.failure !== undefined,
    () => void this.probeWrites(),
  );

  constructor(
    readonly dataSource: DataSource,
    options: PostbackDatabaseOptions = {},
  ) {
    const type = dataSource.options.type;
    const file = type === 'better-sqlite3' ? dataSource.options.database : undefined;
    this.writerWanted = Boolean(options.sqliteWriterThread && file && file !== ':memory:');
    this.dialect = dialectOf(dataSource);
    this.serialised = this.dialect.serialised;
    if (type === 'better-sqlite3') {
      this.lockWait = new SqliteLockWait(
        dataSource,
        isDedicatedPostbackDatabase(dataSource.options),
        (job) => this.exclusive(job),
      );
    }
    this.groupCommit = new GroupCommit(
      (job) => void this.exclusive(job),
      (work) => this.sqliteTransaction(work),
      // A lock held by another process: every unit after the one that met it would meet it too.
      isSqliteBusy,
    );
  }

  /**
   * Runs reads or single writes; `work` must only use the manager it is given. On SQLite,
   * `work` is run again while another process holds the write lock (its one write, if any,
   * did not happen); with `waitForLock: false` it fails at once with DatabaseUnavailableError.
   */
  run<T>(
    work: (manager: EntityManager) => Promise<T>,
    options: { waitForLock?: boolean } = {},
  ): Promise<T> {
    if (!this.serialised) return this.watched(work(this.dataSource.manager), false);
    const attempt = () =>
      this.exclusive(async () => {
        const outcome = await sqliteAutocommit(
          this.dataSource,
          () => work(this.dataSource.manager),
          this.writeHealth.failure !== undefined,
        );
        if (outcome.wrote) this.writeHealth.succeeded();
        return outcome.value;
      });
    // Not waiting for a lock is the caller's choice (it keeps the work elsewhere meanwhile):
    // what fails then says nothing of the database's health; the caller's later write will.
    const noted = options.waitForLock !== false;
    return this.watched(this.lockedRetry(attempt, options.waitForLock), false, noted);
  }

  /**
   * Runs `work` in one transaction: everything it writes commits together, or nothing.
   *
   * On PostgreSQL and MySQL/MariaDB the isolation is READ COMMITTED. Under InnoDB's default
   * REPEATABLE READ, a claim's `SELECT … FOR UPDATE SKIP LOCKED` locks the gaps of the due
   * index, and a checkout inserting its outbox row into such a gap deadlocks with it. A
   * transaction the server still picks as a deadlock victim, or fails with a serialization
   * failure, is run again (a few times): `work` must therefore be safe to repeat, which every
   * caller's is (idempotency keys, claim tokens).
   *
   * With `anyIsolation`, `work` declares itself correct under every isolation level the engine
   * offers: what it reads cannot make it write something wrong, and its conflicts surface as
   * unique violations or as serialization failures (retried). On PostgreSQL such a transaction
   * starts at the server's default level (READ COMMITTED unless configured otherwise), which
   * spares the separate `SET TRANSACTION ISOLATION LEVEL` round trip TypeORM sends after
   * `START TRANSACTION`. Without it, READ COMMITTED is set explicitly, so a server whose
   * default is REPEATABLE READ cannot, for instance, let two reversals of one order each miss
   * the other's row. On MySQL/MariaDB the level is set either way, for the gap locks above.
   *
   * With `anyIsolation` and `singleWrite` as well, PostgreSQL runs `work` without a
   * transaction: every statement commits on its own, and the one that writes is atomic by
   * itself, so its rows still commit together or not at all. That spares START TRANSACTION and
   * COMMIT, two of a conversion's four round trips; its reads see what was committed before
   * each of them, as they would in a READ COMMITTED transaction.
   */
  transaction<T>(
    work: (manager: EntityManager) => Promise<T>,
    options: TransactionOptions = {},
  ): Promise<T> {
    if (this.serialised) {
      const attempt = () => this.exclusive(() => this.sqliteTransaction(work));
      return this.watched(this.lockedRetry(attempt), false);
    }
    return this.watched(serverTransaction(this.dataSource, work, options), true);
  }

  /**
   * `transaction` for a unit of work that does not care which other units share its COMMIT
   * (a conversion with its outbox rows). On SQLite, units queued behind the connection are
   * committed together, each in its own savepoint (see GroupCommit): one fsync for many
   * events instead of one each, while each unit still commits or fails as a whole and its
   * caller is answered only once it is durable. Elsewhere it is `transaction`.
   */
  groupedTransaction<T>(
    work: (manager: EntityManager) => Promise<T>,
    options: TransactionOptions = {},
  ): Promise<T> {
    return this.serialised
      ? this.watched(
          this.lockedRetry(() => this.groupCommit.submit(work), true, options.lockDeadline),
          false,
        )
      : this.transaction(work, options);
  }

  /** Whether `writeOffThread` runs on a writer thread (else callers use the main connection). */
  get offThread(): boolean {
    return this.writerWanted;
  }

  /**
   * Runs the statements, in order, in one transaction on the writer thread's connection:
   * queued like every unit of work on SQLite, so no other write of this module runs meanwhile,
   * but the event loop is free while SQLite works and syncs. Only when `offThread`.
   */
  writeOffThread(statements: WriterStatement[]): Promise<WriterResult[]> {
    // The thread's transaction met the lock and was rolled back: queued again, so the reads
    // and writes of the main connection go on meanwhile.
    const batch = this.lockedRetry(() =>
      this.exclusive(async () => {
        const writer = await this.startedWriter();
        for (const { sql, values } of statements) this.dataSource.logger.logQuery(sql, values);
        return writer.run(statements);
      }),
    );
    return this.watched(batch, true);
  }

  /** A SQLite transaction that has really committed when it resolves (see sqliteTransaction). */
  private async sqliteTransaction<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    // Whether it changed rows matters only while writes are failing: that clears it.
    const measure = this.writeHealth.failure !== undefined;
    const outcome = await sqliteTransaction(this.dataSource, work, measure);
    if (outcome.wrote) this.writeHealth.succeeded();
    return outcome.value;
  }

  /**
   * While writes are failing, tries the smallest real write (see probeWrite) and clears the
   * failure if it commits: an idle instance has no other write to tell it that the outage has
   * ended. A failed probe changes nothing (it is no unit of work refused). One at a time.
   */
  probeWrites(): Promise<void> {
    if (!this.writeHealth.failure) return Promise.resolve();
    this.probe ??= this.watched(
      this.exclusive(() => probeWrite(this.dataSource)),
      true,
      false,
    )
      .catch(() => undefined)
      .finally(() => (this.probe = undefined));
    return this.probe;
  }

  /**
   * A failure meaning "the database cannot work now" becomes DatabaseUnavailableError, noted in
   * `writeHealth`, as is a success with `writes` (on SQLite each unit says if it wrote rows).
   */
  private async watched<T>(unit: Promise<T>, writes: boolean, noted = true): Promise<T> {
    try {
      const value = await unit;
      if (writes) this.writeHealth.succeeded();
      return value;
    } catch (error) {
      const classified = asUnavailable(asQueryFailed(error));
      if (noted && classified instanceof DatabaseUnavailableError) {
        this.writeHealth.failed(classified);
        this.probing.start(classified.retryAfterSeconds);
      }
      throw withoutStatement(classified);
    }
  }

  /**
   * Starts the writer thread with the app rather than at the first batch: it is part of what
   * the app costs at rest (about 10 MB), and the first landing or postback does not wait for
   * it to load.
   */
  async onApplicationBootstrap(): Promise<void> {
    if (this.writerWanted) await this.exclusive(() => this.startedWriter());
  }

  /** Lets the writer thread finish what it was given, then closes its connection. */
  async onApplicationShutdown(): Promise<void> {
    this.probing.stop();
    await this.exclusive(async () => {
      const writer = this.writer;
      this.writer = undefined;
      await writer?.close();
    });
  }

  /** The writer thread, started if it is not yet (call inside `exclusive`). */
  private async startedWriter(): Promise<SqliteWriterThread> {
    this.writer ??= await startSqliteWriter(this.dataSource);
    return this.writer;
  }

  /** `attempt` again while another process holds SQLite's write lock (see SqliteLockWait). */
  private lockedRetry<T>(attempt: () => Promise<T>, wait = true, deadline?: number): Promise<T> {
    return this.lockWait ? this.lockWait.retry(attempt, wait, deadline) : attempt();
  }

  /**
   * On a better-sqlite3 file, the deadline of a wait for another process's write lock that
   * starts now, for a caller whose one operation takes several steps to share (see
   * `SqliteLockWait.deadline`, `withinLockDeadline`, `TransactionOptions.lockDeadline`).
   */
  lockDeadline(): number | undefined {
    return this.lockWait?.deadline();
  }

  /** `work`, or DatabaseUnavailableError once `deadline` has passed (SqliteLockWait.within). */
  withinLockDeadline<T>(work: Promise<T>, deadline: number | undefined): Promise<T> {
    return this.lockWait && deadline !== undefined ? this.lockWait.within(work, deadline) : work;
  }

  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    if (!this.serialised) return work();
    const lockWait = this.lockWait;
    const job = lockWait ? () => lockWait.around(work) : work;
    const result = this.tail.then(job, job);
    this.tail = result.catch(() => undefined);
    return result;
  }
}

// Where callers have always found them.
export { isRefusedValue, isUniqueViolation } from './refused-statement.js';
export { isTransientConflict, type TransactionOptions } from './server-transaction.js';
