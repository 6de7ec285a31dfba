import type { DataSource } from 'typeorm';

/**
 * The SQL dialect seam: what differs between the engines the module runs on, in one object per
 * engine (`SQLITE`, `POSTGRES`, `MYSQL`), chosen once per DataSource by `dialectOf` (the
 * PostbackDatabase holds it as `db.dialect`). Nothing else asks which engine it is on.
 *
 * Statements are written once, engine-neutral, in one file per table (`outbox/outbox.sql.ts`,
 * `database/postback-meta.sql.ts`, …): `"double-quoted"` identifiers, `:name` parameters, no
 * string literals. `translate` turns such a text into the engine's (backticks on MySQL, `$n`
 * on PostgreSQL, `?` elsewhere); raw-sql's `compile` does so once per text and caches it. What
 * a statement cannot say neutrally it asks of the dialect: `lockSkipLocked` and `lockForUpdate`
 * clauses, `upsert` tails, the server's `clockMs`; whether a shape exists at all it reads from
 * the capability flags (`updateReturning`, `writableCte`), decided here and nowhere else.
 *
 * Adopting it for a table (the clicks, say): put the table's statements in `<table>.sql.ts` as
 * functions of `(dialect, table name from getMetadata(entity).tableName, …)` returning neutral
 * text, run them through `rawQuery` (or `boundStatement` for the SQLite writer thread), and add
 * the table to the snapshot test (see `outbox/outbox.sql.spec.ts`) so each engine's text shows
 * in review.
 */
export interface SqlDialect {
  /** Which engine family: one object each. */
  readonly engine: 'sqlite' | 'postgres' | 'mysql';
  /**
   * One connection, so every unit of work is queued in the process (SQLite): no competing
   * instance, no row locks, no floor to keep.
   */
  readonly serialised: boolean;
  /** UPDATE … RETURNING rows: PostgreSQL and better-sqlite3 (SQLite ≥ 3.35), not MySQL. */
  readonly updateReturning: boolean;
  /**
   * Data-modifying `WITH` parts and `UPDATE … FROM`: a whole exchange round in one statement
   * (PostgreSQL).
   */
  readonly writableCte: boolean;
  /**
   * A transaction correct under any isolation level may start at the server's default level,
   * sparing a `SET TRANSACTION` round trip (PostgreSQL; MySQL's gap locks want READ COMMITTED
   * set, see `PostbackDatabase.transaction`).
   */
  readonly serverDefaultIsolation: boolean;
  /** Statements prepared under a name on each pooled connection (PostgreSQL). */
  readonly namedStatements: boolean;
  /**
   * The end of a claim's SELECT where instances compete: they skip each other's rows and
   * never wait. Empty on SQLite.
   */
  readonly lockSkipLocked: string;
  /** The end of a SELECT that locks its rows until the transaction ends. Empty on SQLite. */
  readonly lockForUpdate: string;
  /** The server's clock in milliseconds since the epoch, an expression; undefined on SQLite. */
  readonly clockMs: string | undefined;

  /** An identifier, quoted (what `"name"` becomes in a neutral text). */
  quote(identifier: string): string;
  /** The placeholder of the `index`-th (from 0) parameter, named `name` in the neutral text. */
  parameter(name: string, index: number): string;
  /**
   * What follows `INSERT … VALUES (…)` to overwrite `overwrite` of a row whose `conflict`
   * columns (a unique key) match, in neutral text.
   */
  upsert(conflict: readonly string[], overwrite: readonly string[]): string;

  /** A unique-index violation. */
  isUniqueViolation(error: unknown): boolean;
  /** A deadlock or serialization failure: the server rolled the transaction back; rerun it. */
  isTransientConflict(error: unknown): boolean;
  /** The server refused a value (the row is at fault: writing it again fails again). */
  isRefusedValue(error: unknown): boolean;
  /** Refuses, with a clear message, a server too old for what claiming relies on. */
  assertVersion(dataSource: DataSource): Promise<void>;
}

/** A neutral text in a dialect, with its parameter names in placeholder order. */
export interface TranslatedText {
  sql: string;
  /** Parameter names in placeholder order (a name used twice appears twice). */
  names: string[];
}

/** The one translator of neutral texts (see `SqlDialect`). */
export function translate(dialect: SqlDialect, text: string): TranslatedText {
  const names: string[] = [];
  const sql = text
    .replace(/"([^"]+)"/g, (_, identifier: string) => dialect.quote(identifier))
    .replace(/:([A-Za-z_][A-Za-z0-9_]*)/g, (_, name: string) => {
      names.push(name);
      return dialect.parameter(name, names.length - 1);
    });
  return { sql, names };
}

/**
 * The driver's code and errno of a failed statement, from TypeORM's QueryFailedError (its
 * `driverError`) or the driver's own error: `driverErrno` is the wrapped error's only.
 */
export function codesOf(error: unknown): { code?: string; errno?: number; driverErrno?: number } {
  const driverError = (error as { driverError?: { code?: string; errno?: number } })?.driverError;
  return {
    code: driverError?.code ?? (error as { code?: string })?.code,
    errno: driverError?.errno ?? (error as { errno?: number })?.errno,
    driverErrno: driverError?.errno,
  };
}

/** Whether `version` (dotted numbers) is `minimum` or later. */
export function atLeast(version: string, minimum: string): boolean {
  const have = version.split('.').map(Number);
  const need = minimum.split('.').map(Number);
  for (let i = 0; i < need.length; i++) {
    if ((have[i] ?? 0) !== need[i]) return (have[i] ?? 0) > need[i];
  }
  return true;
}

/** Oldest servers with `FOR UPDATE SKIP LOCKED`, which claiming relies on. */
export const MINIMUM_VERSIONS = { postgres: '9.5', mysql: '8.0.1', mariadb: '10.6' } as const;
