import type { DataSource } from 'typeorm';

import { PostbackConfigurationError } from '../../errors/postback-configuration.error.js';
import { atLeast, codesOf, MINIMUM_VERSIONS, type SqlDialect } from './sql-dialect.js';

/** PostgreSQL through pg: a pool, SKIP LOCKED, RETURNING, data-modifying WITH. */
export const POSTGRES: SqlDialect = {
  engine: 'postgres',
  serialised: false,
  updateReturning: true,
  writableCte: true,
  serverDefaultIsolation: true,
  namedStatements: true,
  lockSkipLocked: ' FOR UPDATE SKIP LOCKED',
  lockForUpdate: ' FOR UPDATE',
  clockMs: '(EXTRACT(EPOCH FROM clock_timestamp()) * 1000)::bigint',
  quote: (identifier) => `"${identifier.replaceAll('"', '""')}"`,
  parameter: (_, index) => `$${index + 1}`,
  upsert: (conflict, overwrite) =>
    `ON CONFLICT (${conflict.map((c) => `"${c}"`).join(', ')}) DO UPDATE SET ${overwrite.map((c) => `"${c}" = EXCLUDED."${c}"`).join(', ')}`,
  isUniqueViolation: (error) => codesOf(error).code === '23505',
  isTransientConflict(error) {
    const { code } = codesOf(error);
    return code === '40P01' || code === '40001'; // deadlock_detected, serialization_failure
  },
  // Classes 22 (data exception) and 23 (integrity constraint violation).
  isRefusedValue: (error) => /^2[23][0-9A-Z]{3}$/.test(String(codesOf(error).code ?? '')),
  async assertVersion(dataSource: DataSource) {
    const [row] = await dataSource.query('SHOW server_version');
    const version = String(row.server_version).split(' ')[0];
    if (!atLeast(version, MINIMUM_VERSIONS.postgres)) {
      throw new PostbackConfigurationError([
        `PostgreSQL ${version} is too old: nestjs-postback needs ${MINIMUM_VERSIONS.postgres} or newer (FOR UPDATE SKIP LOCKED)`,
      ]);
    }
  },
};
