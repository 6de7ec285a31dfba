// Entity rows written and read by hand on the hot paths, over raw-sql.ts's fixed, bound
// statements: an INSERT text per entity and row count, prepared once.
import type {
  DataSource,
  EntityManager,
  EntityMetadata,
  EntityTarget,
  ObjectLiteral,
} from 'typeorm';

import { dialectOf } from './dialect/dialect-of.js';
import { compile, rawQuery } from './raw-sql.js';
import { dataSourceOf } from './typeorm-compat.js';

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
