import type { DataSource } from 'typeorm';

import { PostbackConfigurationError } from '../../errors/postback-configuration.error.js';
import { atLeast, codesOf, MINIMUM_VERSIONS, type SqlDialect } from './sql-dialect.js';

/** Bad NULL, duplicate, out of range, incorrect value, incorrect string, too long, CHECK. */
const REFUSED_VALUE = new Set([1048, 1062, 1264, 1292, 1366, 1406, 3819, 4025]);

/** MySQL and MariaDB through mysql2: a pool, SKIP LOCKED, no UPDATE … RETURNING. */
export const MYSQL: SqlDialect = {
  engine: 'mysql',
  serialised: false,
  updateReturning: false,
  writableCte: false,
  serverDefaultIsolation: false,
  namedStatements: false,
  lockSkipLocked: ' FOR UPDATE SKIP LOCKED',
  lockForUpdate: ' FOR UPDATE',
  clockMs: 'CAST(UNIX_TIMESTAMP(NOW(3)) * 1000 AS SIGNED)',
  quote: (identifier) => `\`${identifier.replaceAll('`', '``')}\``,
  parameter: () => '?',
  upsert: (_conflict, overwrite) =>
    `ON DUPLICATE KEY UPDATE ${overwrite.map((c) => `"${c}" = VALUES("${c}")`).join(', ')}`,
  isUniqueViolation(error) {
    const { code, driverErrno } = codesOf(error);
    return code === 'ER_DUP_ENTRY' || driverErrno === 1062;
  },
  isTransientConflict(error) {
    const { code, driverErrno } = codesOf(error);
    return (
      code === 'ER_LOCK_DEADLOCK' ||
      driverErrno === 1213 ||
      code === 'ER_LOCK_WAIT_TIMEOUT' ||
      driverErrno === 1205
    );
  },
  isRefusedValue(error) {
    const { errno } = codesOf(error);
    return errno !== undefined && REFUSED_VALUE.has(errno);
  },
  async assertVersion(dataSource: DataSource) {
    const [row] = await dataSource.query('SELECT VERSION() AS version');
    const full = String(row.version);
    const isMariaDb = /mariadb/i.test(full);
    const version = full.split('-')[0];
    const minimum = isMariaDb ? MINIMUM_VERSIONS.mariadb : MINIMUM_VERSIONS.mysql;
    if (!atLeast(version, minimum)) {
      throw new PostbackConfigurationError([
        `${isMariaDb ? 'MariaDB' : 'MySQL'} ${version} is too old: nestjs-postback needs ${minimum} or newer (FOR UPDATE SKIP LOCKED)`,
      ]);
    }
  },
};
