import { createHash } from 'node:crypto';

import type { Pool, PoolClient, QueryResult } from 'pg';
import { type DataSource, type EntityManager, type ObjectLiteral, QueryFailedError } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver.js';

import { dialectOf } from './dialect/dialect-of.js';
import { translate } from './dialect/sql-dialect.js';
import { dataSourceOf } from './typeorm-compat.js';

/**
 * Hand-written SQL for the hot paths (recording a conversion, attribution reads), portable to
 * SQLite, PostgreSQL and MySQL/MariaDB, without the query builders' per-call cost.
 *
 * Why not `manager.insert`/`findOne` there: the builders spend more CPU than the database does
 * on a small row, and on SQLite TypeORM inlines every number parameter into the SQL text
 * (`escapeQueryWithParameters`): a timestamp makes each statement's text new, so
 * better-sqlite3 prepares it again, and the new text evicts good entries from TypeORM's
 * 100-statement cache. Here the text is fixed per (data source, statement) and every value,
 * numbers included, is bound as a positional parameter, so each statement is prepared once.
 *
 * Statements are written with `"double-quoted"` identifiers and `:name` parameters; both are
 * translated once per data source by its dialect (see `dialect/sql-dialect.ts`). The text
 * must not contain string literals: `"` would be taken for an identifier quote.
 */
export interface RawStatement {
  sql: string;
  /** Parameter names in placeholder order (a name used twice appears twice). */
  names: string[];
  /** On PostgreSQL, the name it is prepared under on each connection (one per text). */
  preparedName?: string;
}

const MAX_COMPILED_TEXTS = 1_000;
const compiled = new WeakMap<DataSource, Map<string, RawStatement>>();

function cacheOf(dataSource: DataSource): Map<string, RawStatement> {
  let cache = compiled.get(dataSource);
  if (!cache) compiled.set(dataSource, (cache = new Map()));
  return cache;
}

/**
 * `text` in the data source's dialect; computed once per text, and on PostgreSQL named for
 * preparing. With `once`, neither cached nor named: a text that will not come again.
 */
export function compile(dataSource: DataSource, text: string, once = false): RawStatement {
  const cache = cacheOf(dataSource);
  let statement = once ? undefined : cache.get(text);
  if (!statement) {
    const dialect = dialectOf(dataSource);
    statement = translate(dialect, text) as RawStatement;
    if (once) return statement;
    if (dialect.namedStatements) {
      statement.preparedName = `nestjs_postback_${createHash('sha256').update(statement.sql).digest('hex').slice(0, 24)}`;
    }
    // Texts that vary with batch sizes are many but few are hot: a bound keeps memory flat.
    if (cache.size >= MAX_COMPILED_TEXTS) cache.clear();
    cache.set(text, statement);
  }
  return statement;
}

export interface RawQueryOptions {
  /**
   * false for a text that varies from one run to the next (its shape follows a batch's
   * makeup): it is compiled afresh, not cached, and on PostgreSQL sent unnamed, instead of
   * prepared and kept on each connection that runs it, which for such texts would pile up
   * without end.
   */
  prepare?: boolean;
}

/**
 * Runs `text` with named parameters on the manager's connection (its transaction, if any).
 * Returns what `manager.query` returns: rows for a SELECT.
 */
export function rawQuery<T = ObjectLiteral[]>(
  manager: EntityManager,
  text: string,
  parameters: Record<string, unknown>,
  options: RawQueryOptions = {},
): Promise<T> {
  // A text that varies run to run is neither kept in the cache nor hashed for a name.
  const statement = compile(dataSourceOf(manager), text, options.prepare === false);
  const values = valuesOf(statement, parameters);
  const pool = directPool(manager);
  return pool
    ? (queryPool(dataSourceOf(manager), pool, statement, values) as Promise<T>)
    : manager.query(statement.sql, values);
}

/** The statement's values in placeholder order. */
function valuesOf(statement: RawStatement, parameters: Record<string, unknown>): unknown[] {
  return statement.names.map((name) => {
    if (!(name in parameters)) throw new Error(`raw SQL parameter :${name} has no value`);
    return parameters[name];
  });
}

/** `text` compiled and its values bound, for a SQLite writer thread (see PostbackDatabase). */
export function boundStatement(
  dataSource: DataSource,
  text: string,
  parameters: Record<string, unknown>,
): { sql: string; values: unknown[] } {
  const statement = compile(dataSource, text);
  return { sql: statement.sql, values: valuesOf(statement, parameters) };
}

/**
 * The pg pool to send a statement to directly, bypassing TypeORM's query runner: on
 * PostgreSQL, outside a transaction (which lives on its query runner's connection), and only
 * while no entity subscriber listens for queries (TypeORM tells them of each; this does not).
 *
 * Why: outside a transaction `manager.query` builds a query runner for every statement, takes
 * a connection, broadcasts to subscribers before and after, and wraps the result, which on a
 * busy agent costs more CPU than the database spends on a small INSERT. What it does that
 * matters is kept: the data source's logger hears of each statement (and of slow or failed
 * ones), and a failure is TypeORM's QueryFailedError with the driver's error inside.
 */
function directPool(manager: EntityManager): Pool | undefined {
  if (manager.queryRunner !== undefined) return undefined;
  const dataSource = dataSourceOf(manager);
  if (dialectOf(dataSource).engine !== 'postgres' || dataSource.subscribers.length > 0) {
    return undefined;
  }
  return (dataSource.driver as PostgresDriver).master as Pool | undefined;
}

/** Pools whose server refused a named statement: theirs are sent unnamed from then on. */
const unnamedPools = new WeakSet<Pool>();

/**
 * SQLSTATEs of a named statement the server does not know (26000), or knows already (42P05),
 * though this connection prepared it, or did not: what a pooler between the agent and the
 * server (PgBouncer in transaction mode, before 1.21) causes by handing each statement to
 * whichever server connection is free.
 */
const PREPARED_ELSEWHERE = new Set(['26000', '42P05']);

/**
 * `manager.query` for one statement on a pooled connection, as a named prepared statement: the
 * server parses and plans each text once per connection, and each later run sends only the
 * values. Returns what `manager.query` returns: the rows, or `[rows, count]` for an UPDATE or
 * DELETE.
 */
async function queryPool(
  dataSource: DataSource,
  pool: Pool,
  statement: RawStatement,
  values: unknown[],
): Promise<unknown> {
  const { logger } = dataSource;
  const { sql } = statement;
  logger.logQuery(sql, values);
  const client: PoolClient = await pool.connect();
  // A connection that fails while in use is dropped from the pool, not handed out again.
  let lost: Error | undefined;
  const onError = (error: Error) => (lost = error);
  client.on('error', onError);
  let raw: QueryResult;
  const started = Date.now();
  try {
    const name = unnamedPools.has(pool) ? undefined : statement.preparedName;
    try {
      raw = await client.query({ name, text: sql, values });
    } catch (error) {
      if (name === undefined || !PREPARED_ELSEWHERE.has((error as { code?: string }).code ?? '')) {
        throw error;
      }
      // Refused before it ran: sent again unnamed, as TypeORM sends everything.
      unnamedPools.add(pool);
      raw = await client.query({ text: sql, values });
    }
  } catch (error) {
    logger.logQueryError(error as Error, sql, values);
    throw new QueryFailedError(sql, values, error as Error);
  } finally {
    client.removeListener('error', onError);
    client.release(lost);
  }
  const elapsed = Date.now() - started;
  const slow = dataSource.options.maxQueryExecutionTime;
  if (slow && elapsed > slow) logger.logQuerySlow(elapsed, sql, values);
  return raw.command === 'UPDATE' || raw.command === 'DELETE' ? [raw.rows, raw.rowCount] : raw.rows;
}
