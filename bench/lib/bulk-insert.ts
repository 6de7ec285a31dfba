/**
 * Seeding a million rows straight into SQLite, for the figures that need that many: rows
 * shaped by test/utils/seed-outbox.ts (what ConversionService writes), turned into column
 * values by TypeORM's own metadata (transformers included), written by better-sqlite3 with
 * multi-row prepared INSERTs.
 */
import type Database from 'better-sqlite3';
import type { DataSource, EntityTarget, ObjectLiteral } from 'typeorm';

/** Rows a statement writes: SQLite allows 32,766 parameters, an outbox row has 17 columns. */
export const ROWS_PER_STATEMENT = 500;

/**
 * The table, its column names and a row → values function for `entity`, from the metadata.
 * The outbox and conversion entities have plain columns only (no embedded entities, no
 * relations, one transformer at most): a value is the property through its transformer, what
 * `getEntityValue(row, true)` returns, without its general path for every value.
 */
export function columnsOf<T extends ObjectLiteral>(
  dataSource: DataSource,
  entity: EntityTarget<T>,
) {
  const metadata = dataSource.getMetadata(entity);
  const plain = metadata.columns.map((column) => {
    const { propertyName, transformer } = column;
    if (column.embeddedMetadata || column.referencedColumn || Array.isArray(transformer)) {
      throw new Error(`bulk insert: ${metadata.tableName}.${propertyName} is not a plain column`);
    }
    return { propertyName, transformer };
  });
  return {
    table: metadata.tableName,
    names: metadata.columns.map((c) => c.databaseName),
    values: (row: T): unknown[] =>
      plain.map(
        ({ propertyName, transformer }) =>
          (transformer ? transformer.to(row[propertyName]) : row[propertyName]) ?? null,
      ),
  };
}

/**
 * A multi-row INSERT into `columns.table`: `insert(rows)` writes up to ROWS_PER_STATEMENT rows
 * in one statement (the full-size one prepared once). The caller holds the transaction.
 */
export function bulkInserter<T extends ObjectLiteral>(
  db: Database.Database,
  columns: ReturnType<typeof columnsOf<T>>,
): (rows: T[]) => void {
  const sql = (rows: number) =>
    `INSERT INTO ${columns.table} (${columns.names.join(', ')}) VALUES ${Array(rows)
      .fill(`(${columns.names.map(() => '?').join(', ')})`)
      .join(', ')}`;
  const full = db.prepare(sql(ROWS_PER_STATEMENT));
  return (rows) => {
    const values = rows.flatMap(columns.values);
    (rows.length === ROWS_PER_STATEMENT ? full : db.prepare(sql(rows.length))).run(...values);
  };
}

/** Calls `write` with consecutive ranges [from, to) of at most ROWS_PER_STATEMENT of `count`. */
export function inStatements(count: number, write: (from: number, to: number) => void): void {
  for (let from = 0; from < count; from += ROWS_PER_STATEMENT) {
    write(from, Math.min(count, from + ROWS_PER_STATEMENT));
  }
}
