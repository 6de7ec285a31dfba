import type { DataSource } from 'typeorm';

import { dialectOf } from './dialect/dialect-of.js';

export { MINIMUM_VERSIONS } from './dialect/sql-dialect.js';

/**
 * Refuses, at start-up and with a clear message, a database the outbox cannot claim rows on
 * safely. TypeORM would otherwise emit SKIP LOCKED to MySQL 5.7 or MariaDB 10.5 and fail on
 * every claim query at run time.
 */
export async function assertSupportedEngine(dataSource: DataSource): Promise<void> {
  await dialectOf(dataSource).assertVersion(dataSource);
}
