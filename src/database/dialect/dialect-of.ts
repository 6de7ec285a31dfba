import type { DataSource } from 'typeorm';

import { PostbackConfigurationError } from '../../errors/postback-configuration.error.js';
import { MYSQL } from './mysql.dialect.js';
import { POSTGRES } from './postgres.dialect.js';
import type { SqlDialect } from './sql-dialect.js';
import { SQLITE, SQLITE_WITHOUT_RETURNING } from './sqlite.dialect.js';

/** Every dialect, for a classification that does not know its engine (see refused-statement). */
export const DIALECTS: readonly SqlDialect[] = [SQLITE, POSTGRES, MYSQL];

/** The dialect of a DataSource's engine; refuses, with a clear message, an engine not supported. */
export function dialectOf(dataSource: DataSource): SqlDialect {
  const type = dataSource.options.type;
  switch (type) {
    case 'better-sqlite3':
      return SQLITE;
    case 'sqljs':
    case 'capacitor':
      return SQLITE_WITHOUT_RETURNING;
    case 'postgres':
      return POSTGRES;
    case 'mysql':
    case 'mariadb':
      return MYSQL;
    default:
      throw new PostbackConfigurationError([
        `database type "${type}" is not supported: use better-sqlite3, postgres, mysql or mariadb`,
      ]);
  }
}
