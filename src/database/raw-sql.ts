import { createHash } from 'node:crypto';

import type { Pool, PoolClient, QueryResult } from 'pg';
import {
  type DataSource,
  type EntityManager,
  type EntityMetadata,
  type EntityTarget,
  type ObjectLiteral,
  QueryFailedError,
} from 'typeorm';
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

/** `"table"."column" AS "column"`, … for every column of the entity, in metadata order. */
export function selectList(metadata: EntityMetadata, alias: string): string {
  return metadata.columns
    .map((c) => `"${alias}"."${c.databaseName}" AS "${c.databaseName}"`)
    .join(', ');
}

/**
 * An entity from a raw row selected with `selectList`: each column as the driver hydrates it,
 * transformers applied (BIGINT times that PostgreSQL and MySQL hand back as strings become
 * numbers; JSON text is parsed).
 */
export function hydrate<T>(manager: EntityManager, target: EntityTarget<T>, row: ObjectLiteral): T {
  const metadata = dataSourceOf(manager).getMetadata(target);
  const driver = dataSourceOf(manager).driver;
  const entity = {} as Record<string, unknown>;
  for (const column of metadata.columns) {
    entity[column.propertyName] = driver.prepareHydratedValue(row[column.databaseName], column);
  }
  return entity as T;
}

const insertTexts = new WeakMap<EntityMetadata, string>();

/**
 * `INSERT INTO "table" (…) VALUES (:prefix…)` for every column of the entity; with several
 * prefixes, one row of values for each.
 */
function insertText(metadata: EntityMetadata, prefixes: string[] = ['']): string {
  const columns = metadata.columns;
  const tuple = (prefix: string) =>
    `(${columns.map((c) => `:${prefix}${c.propertyName}`).join(', ')})`;
  return (
    `INSERT INTO "${metadata.tableName}" (${columns.map((c) => `"${c.databaseName}"`).join(', ')}) ` +
    `VALUES ${prefixes.map(tuple).join(', ')}`
  );
}

/** The row's bound values, transformers applied as `manager.insert` would, keyed `prefix` + property. */
function insertValues(
  manager: EntityManager,
  metadata: EntityMetadata,
  row: ObjectLiteral,
  values: Record<string, unknown>,
  prefix = '',
): void {
  const driver = dataSourceOf(manager).driver;
  for (const column of metadata.columns) {
    const value = column.getEntityValue(row);
    if (value === undefined) {
      throw new Error(`insertRow(${metadata.name}): no value for ${column.propertyName}`);
    }
    values[`${prefix}${column.propertyName}`] = driver.preparePersistentValue(value, column);
  }
}

/**
 * Inserts one complete entity row with a statement prepared once: every column is bound,
 * transformers applied as `manager.insert` would, and nothing is read back (the row is
 * complete, so there are no database defaults to fetch).
 */
export async function insertRow<T extends ObjectLiteral>(
  manager: EntityManager,
  target: EntityTarget<T>,
  row: T,
): Promise<void> {
  const metadata = dataSourceOf(manager).getMetadata(target);
  let text = insertTexts.get(metadata);
  if (text === undefined) insertTexts.set(metadata, (text = insertText(metadata)));
  const values: Record<string, unknown> = {};
  insertValues(manager, metadata, row, values);
  await rawQuery(manager, text, values);
}

const multiRowInsertTexts = new Map<string, string>();

/**
 * Complete rows of one entity in one multi-row INSERT (what `insertRow` does for one). The
 * text depends on the entity and the count only; keep batches to a few hundred rows so the
 * bound parameters stay within every engine's limit.
 */
export async function insertMany<T extends ObjectLiteral>(
  manager: EntityManager,
  target: EntityTarget<T>,
  rows: T[],
): Promise<void> {
  if (rows.length === 0) return;
  const values: Record<string, unknown> = {};
  await rawQuery(manager, insertManySql(manager, target, rows, values), values);
}

/**
 * `insertMany`'s statement, not run: its text, its values added to `values` (named
 * `<prefix>r<i>_<property>`), to be part of a larger statement.
 */
export function insertManySql<T extends ObjectLiteral>(
  manager: EntityManager,
  target: EntityTarget<T>,
  rows: T[],
  values: Record<string, unknown>,
  prefix = '',
): string {
  const metadata = dataSourceOf(manager).getMetadata(target);
  const key = `${metadata.tableName}\0${rows.length}\0${prefix}`;
  let text = multiRowInsertTexts.get(key);
  if (text === undefined) {
    text = insertText(
      metadata,
      rows.map((_, i) => `${prefix}r${i}_`),
    );
    multiRowInsertTexts.set(key, text);
  }
  rows.forEach((row, i) => insertValues(manager, metadata, row, values, `${prefix}r${i}_`));
  return text;
}

/**
 * `insertMany`'s statement compiled and bound, for a SQLite writer thread (see
 * `boundStatement`): the values in placeholder order, taken row by row, column by column,
 * without naming each of them first.
 */
export function insertManyBound<T extends ObjectLiteral>(
  dataSource: DataSource,
  target: EntityTarget<T>,
  rows: T[],
): { sql: string; values: unknown[] } {
  const metadata = dataSource.getMetadata(target);
  const key = `${metadata.tableName}\0${rows.length}\0`;
  let text = multiRowInsertTexts.get(key);
  if (text === undefined) {
    text = insertText(
      metadata,
      rows.map((_, i) => `r${i}_`),
    );
    multiRowInsertTexts.set(key, text);
  }
  const driver = dataSource.driver;
  const values: unknown[] = [];
  for (const row of rows) {
    for (const column of metadata.columns) {
      const value = column.getEntityValue(row);
      if (value === undefined) {
        throw new Error(`insertRow(${metadata.name}): no value for ${column.propertyName}`);
      }
      values.push(driver.preparePersistentValue(value, column));
    }
  }
  return { sql: compile(dataSource, text).sql, values };
}

/** A complete row of an entity, for `insertRows`. */
export interface EntityRow {
  target: EntityTarget<ObjectLiteral>;
  row: ObjectLiteral;
}

const chainedInsertTexts = new Map<string, string>();

/**
 * `insertRow` for several rows, of any entities, in order. On PostgreSQL they go in one
 * statement, one round trip: each row but the last in a data-modifying `WITH` (PostgreSQL
 * runs every part of the statement, and a failing part, a unique violation say, fails the
 * statement as a whole, as the first failing INSERT would). Elsewhere one INSERT each.
 */
export async function insertRows(manager: EntityManager, rows: EntityRow[]): Promise<void> {
  if (rows.length < 2 || !dialectOf(dataSourceOf(manager)).writableCte) {
    for (const { target, row } of rows) await insertRow(manager, target, row);
    return;
  }
  const metadatas = rows.map(({ target }) => dataSourceOf(manager).getMetadata(target));
  const key = metadatas.map((m) => m.tableName).join('\0');
  let text = chainedInsertTexts.get(key);
  if (text === undefined) {
    const inserts = metadatas.map((metadata, i) => insertText(metadata, [`r${i}_`]));
    const last = inserts.pop() as string;
    text = `WITH ${inserts.map((insert, i) => `"w${i}" AS (${insert})`).join(', ')} ${last}`;
    chainedInsertTexts.set(key, text);
  }
  const values: Record<string, unknown> = {};
  rows.forEach(({ row }, i) => insertValues(manager, metadatas[i], row, values, `r${i}_`));
  await rawQuery(manager, text, values);
}

/**
 * `:name0, :name1, …` for `values`, which it adds to `parameters`: for `IN (…)` lists and the
 * rows of a multi-row `VALUES`. (The text depends only on the count, so statements of the same
 * size share one compiled text and one prepared statement.)
 */
export function placeholders(
  name: string,
  values: unknown[],
  parameters: Record<string, unknown>,
): string {
  return values
    .map((value, i) => {
      parameters[`${name}${i}`] = value;
      return `:${name}${i}`;
    })
    .join(', ');
}
