import type { DataSource, ObjectLiteral } from 'typeorm';
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
