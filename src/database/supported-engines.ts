import type { DataSource } from 'typeorm';

import { PostbackConfigurationError } from '../errors/postback-configuration.error.js';

/** Oldest servers with `FOR UPDATE SKIP LOCKED`, which claiming relies on. */
export const MINIMUM_VERSIONS = { postgres: '9.5', mysql: '8.0.1', mariadb: '10.6' } as const;

function atLeast(version: string, minimum: string): boolean {
  const have = version.split('.').map(Number);
  const need = minimum.split('.').map(Number);
  for (let i = 0; i < need.length; i++) {
    if ((have[i] ?? 0) !== need[i]) return (have[i] ?? 0) > need[i];
  }
  return true;
}

/**
 * Refuses, at start-up and with a clear message, a database the outbox cannot claim rows on
 * safely. TypeORM would otherwise emit SKIP LOCKED to MySQL 5.7 or MariaDB 10.5 and fail on
 * every claim query at run time.
 */
export async function assertSupportedEngine(dataSource: DataSource): Promise<void> {
  const type = dataSource.options.type;
  if (type === 'better-sqlite3' || type === 'sqljs' || type === 'capacitor') return;
  if (type === 'postgres') {
    const [row] = await dataSource.query('SHOW server_version');
    const version = String(row.server_version).split(' ')[0];
    if (!atLeast(version, MINIMUM_VERSIONS.postgres)) {
      throw new PostbackConfigurationError([
        `PostgreSQL ${version} is too old: nestjs-postback needs ${MINIMUM_VERSIONS.postgres} or newer (FOR UPDATE SKIP LOCKED)`,
      ]);
    }
    return;
  }
  if (type === 'mysql' || type === 'mariadb') {
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
    return;
  }
  throw new PostbackConfigurationError([
    `database type "${type}" is not supported: use better-sqlite3, postgres, mysql or mariadb`,
  ]);
}
