import type { DataSource, EntityManager, QueryRunner } from 'typeorm';

import { DatabaseUnavailableError } from '../errors/database-unavailable.error.js';
import { waitForHostTransaction } from './host-transaction-wait.js';

/** What the module needs of better-sqlite3's connection: its own view of the transaction. */
interface SqliteConnection {
  readonly inTransaction: boolean;
  exec(sql: string): unknown;
  prepare(sql: string): { pluck(): { get(): unknown } };
}

/**
 * A unit of work on SQLite, and whether it changed rows (a write that reached the file); false
 * when not asked to find out (`measure`).
 */
export interface SqliteOutcome<T> {
  value: T;
  wrote: boolean;
}

/**
 * A transaction on TypeORM's single SQLite connection that has committed when it resolves, and
 * leaves no transaction open when it rejects.
 *
 * TypeORM keeps its own count of open transactions beside SQLite's. When a COMMIT or a
 * statement fails with SQLITE_FULL or SQLITE_IOERR, SQLite may roll the transaction back by
 * itself; TypeORM's ROLLBACK then fails, the failure is swallowed, and its count stays "open".
 * Every later transaction becomes a SAVEPOINT, and once SQLite does hold a transaction open,
 * their "commits" are RELEASEs inside one that never commits: callers acknowledged, rows lost
 * on the next crash, and the flusher sending postbacks for them meanwhile. So the driver's own
 * `inTransaction` is the truth here: checked before and after, really rolled back when a
 * transaction is left open, and TypeORM's count reset to match.
 *
 * With `measure`, it also finds out whether `work` changed rows (two statements more): the
 * caller asks only while writes are failing, when a change is what clears that.
 */
export async function sqliteTransaction<T>(
  dataSource: DataSource,
  work: (manager: EntityManager) => Promise<T>,
  measure: boolean,
): Promise<SqliteOutcome<T>> {
  const runner = dataSource.createQueryRunner();
  const connection = sqliteConnection(dataSource);
  await waitForHostTransaction(runner, connection);
  await settleIfLeftOpen(runner, connection);
  // Open still: on a driver without a view of its state (sql.js), a host's transaction, which
  // this one joins as a savepoint (TypeORM's way); the host's to commit or roll back.
  const clean = !connection?.inTransaction && !runner.isTransactionActive;
  const before = measure ? totalChanges(connection) : undefined;
  let value: T;
  try {
    value = await dataSource.transaction(work);
  } catch (error) {
    if (clean) await settle(runner, connection).catch(() => undefined); // the first error is the news
    throw error;
  }
  if (clean && (connection?.inTransaction || runner.isTransactionActive)) {
    // TypeORM resolved, but what it ran was a RELEASE inside a transaction still open.
    await settle(runner, connection).catch(() => undefined);
    throw new DatabaseUnavailableError('the commit did not complete, nothing was written');
  }
  return { value, wrote: measure && changedSince(connection, before) };
}

/**
 * Runs `work` outside any transaction of the module's (each statement commits on its own) and,
 * with `measure`, says whether it changed rows.
 */
export async function sqliteAutocommit<T>(
  dataSource: DataSource,
  work: () => Promise<T>,
  measure: boolean,
): Promise<SqliteOutcome<T>> {
  const connection = sqliteConnection(dataSource);
  const runner = dataSource.createQueryRunner();
  await waitForHostTransaction(runner, connection);
  await settleIfLeftOpen(runner, connection);
  const before = measure ? totalChanges(connection) : undefined;
  const value = await work();
  return { value, wrote: measure && changedSince(connection, before) };
}

/** Whether rows changed since `before` (always, off better-sqlite3: it cannot tell). */
function changedSince(
  connection: SqliteConnection | undefined,
  before: number | undefined,
): boolean {
  return before === undefined || totalChanges(connection) !== before;
}

/**
 * Connections a failed ROLLBACK left with a transaction open: rolled back before their next
 * use, and refused (DatabaseUnavailableError) while that fails.
 */
const leftOpen = new WeakSet<object>();

async function settleIfLeftOpen(
  runner: QueryRunner,
  connection: SqliteConnection | undefined,
): Promise<void> {
  // TypeORM's count says open, SQLite says not: stale, from a failure on the host's side.
  const stale = connection && !connection.inTransaction && runner.isTransactionActive;
  if (connection && (stale || leftOpen.has(connection))) await settle(runner, connection);
}

/** Rolls back whatever the connection still holds open and resets TypeORM's count to match. */
async function settle(
  runner: QueryRunner,
  connection: SqliteConnection | undefined,
): Promise<void> {
  const state = runner as unknown as { isTransactionActive: boolean; transactionDepth: number };
  if (connection) {
    if (!connection.inTransaction) {
      leftOpen.delete(connection);
    } else {
      try {
        connection.exec('ROLLBACK');
        leftOpen.delete(connection);
      } catch (error) {
        leftOpen.add(connection);
        throw new DatabaseUnavailableError(
          'a failed transaction could not be rolled back on the connection',
          undefined,
          { cause: error },
        );
      }
    }
  } else if (state.isTransactionActive) {
    // sql.js and the like: no view of the driver's state; ROLLBACK fails harmlessly if none.
    await runner.query('ROLLBACK').catch(() => undefined);
  }
  state.isTransactionActive = false;
  state.transactionDepth = 0;
}

/** better-sqlite3's connection, or undefined on another SQLite driver. */
function sqliteConnection(dataSource: DataSource): SqliteConnection | undefined {
  const connection = (dataSource.driver as { databaseConnection?: Partial<SqliteConnection> })
    .databaseConnection;
  return typeof connection?.inTransaction === 'boolean'
    ? (connection as SqliteConnection)
    : undefined;
}

const changeCounters = new WeakMap<SqliteConnection, { get(): unknown }>();

/** SQLite's count of rows changed on the connection since it opened (unknown off better-sqlite3). */
function totalChanges(connection: SqliteConnection | undefined): number | undefined {
  if (!connection) return undefined;
  let statement = changeCounters.get(connection);
  if (!statement) {
    statement = connection.prepare('SELECT total_changes()').pluck();
    changeCounters.set(connection, statement);
  }
  return Number(statement.get());
}
