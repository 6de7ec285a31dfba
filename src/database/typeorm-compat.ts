import { type DataSource, type ObjectLiteral, QueryFailedError, TypeORMError } from 'typeorm';
import type { Driver } from 'typeorm/driver/Driver.js';

/**
 * The few TypeORM APIs that differ between the two supported lines, 0.3.x (Nest 11 shops) and
 * 1.x, in one place. Everything else the module uses is the same in both.
 */

/** What both an EntityManager and a QueryRunner hold their DataSource as, in either line. */
interface DataSourceHolder {
  /** 1.x only. */
  readonly dataSource?: DataSource;
}

/**
 * The DataSource behind a manager or a query runner: `dataSource` in 1.x, `connection` in
 * 0.3 (1.x keeps `connection` only as a deprecated alias, to be removed).
 */
export function dataSourceOf(holder: object): DataSource {
  const own = (holder as DataSourceHolder).dataSource;
  return own ?? (holder as unknown as { connection: DataSource }).connection;
}

/**
 * `driver.escapeQueryWithParameters`: 0.3 wants a third argument (native parameters, merged
 * into the result), 1.x takes two and ignores a third.
 */
export function escapeQueryWithParameters(
  driver: Driver,
  sql: string,
  parameters: ObjectLiteral,
): [string, unknown[]] {
  const escape = driver.escapeQueryWithParameters as (
    this: Driver,
    sql: string,
    parameters: ObjectLiteral,
    nativeParameters: ObjectLiteral,
  ) => [string, unknown[]];
  return escape.call(driver, sql, parameters, {});
}

/**
 * A driver's error as a QueryFailedError, as 1.x throws every failed statement. 0.3's
 * better-sqlite3 runner prepares the statement outside its try, so what SQLite refuses at
 * prepare ("no such table", a syntax error) escapes as the bare SqliteError: the agent's
 * QueryFailedFilter would not catch it, and its message would go unredacted. Its statement is
 * unknown here; TypeORM's own errors and others pass unchanged.
 */
export function asQueryFailed(error: unknown): unknown {
  // By name, not `instanceof Error`: the driver's error may come from another realm (jest's vm).
  const { name, code } = (error ?? {}) as { name?: unknown; code?: unknown };
  if (error instanceof TypeORMError || name !== 'SqliteError' || typeof code !== 'string') {
    return error;
  }
  return new QueryFailedError('', [], error as Error);
}
