import { codesOf, type SqlDialect } from './sql-dialect.js';

/** SQLite through better-sqlite3: one connection, one process, RETURNING (SQLite ≥ 3.35). */
export const SQLITE: SqlDialect = {
  engine: 'sqlite',
  serialised: true,
  updateReturning: true,
  writableCte: false,
  serverDefaultIsolation: false,
  namedStatements: false,
  lockSkipLocked: '',
  lockForUpdate: '',
  clockMs: undefined,
  quote: (identifier) => `"${identifier.replaceAll('"', '""')}"`,
  parameter: () => '?',
  upsert: (conflict, overwrite) =>
    `ON CONFLICT (${conflict.map((c) => `"${c}"`).join(', ')}) DO UPDATE SET ${overwrite.map((c) => `"${c}" = EXCLUDED."${c}"`).join(', ')}`,
  isUniqueViolation(error) {
    const { code } = codesOf(error);
    return code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
  },
  // One connection: no deadlock, no serialization failure (a lock held by another process is
  // SqliteLockWait's to wait out).
  isTransientConflict: () => false,
  isRefusedValue(error) {
    const code = String(codesOf(error).code ?? '');
    return (
      code.startsWith('SQLITE_CONSTRAINT') || code === 'SQLITE_MISMATCH' || code === 'SQLITE_TOOBIG'
    );
  },
  // The library is linked into the driver: whatever better-sqlite3 12 ships has RETURNING.
  assertVersion: () => Promise.resolve(),
};

/** SQLite through sql.js or Capacitor: as better-sqlite3, without relying on RETURNING. */
export const SQLITE_WITHOUT_RETURNING: SqlDialect = { ...SQLITE, updateReturning: false };
