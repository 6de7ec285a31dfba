import type {
  DataSource,
  EntityManager,
  EntityMetadata,
  EntityTarget,
  ObjectLiteral,
} from 'typeorm';

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
 * translated once per data source (backticks on MySQL, `$n` on PostgreSQL, `?` elsewhere).
 * The text must not contain string literals: `"` would be taken for an identifier quote.
 */
export interface RawStatement {
  sql: string;
  /** Parameter names in placeholder order (a name used twice appears twice). */
  names: string[];
}

const compiled = new WeakMap<DataSource, Map<string, RawStatement>>();

function cacheOf(dataSource: DataSource): Map<string, RawStatement> {
  let cache = compiled.get(dataSource);
  if (!cache) compiled.set(dataSource, (cache = new Map()));
  return cache;
}

/** `text` in the data source's dialect; computed once per text. */
export function compile(dataSource: DataSource, text: string): RawStatement {
  const cache = cacheOf(dataSource);
  let statement = cache.get(text);
  if (!statement) {
    const driver = dataSource.driver;
    const names: string[] = [];
    const sql = text
      .replace(/"([^"]+)"/g, (_, identifier: string) => driver.escape(identifier))
      .replace(/:([A-Za-z_][A-Za-z0-9_]*)/g, (_, name: string) => {
        names.push(name);
        return driver.createParameter(name, names.length - 1);
      });
    statement = { sql, names };
    cache.set(text, statement);
  }
  return statement;
}

/**
 * Runs `text` with named parameters on the manager's connection (its transaction, if any).
 * Returns what `manager.query` returns: rows for a SELECT.
 */
export function rawQuery<T = ObjectLiteral[]>(
  manager: EntityManager,
  text: string,
  parameters: Record<string, unknown>,
): Promise<T> {
  const { sql, names } = compile(manager.dataSource, text);
  return manager.query(
    sql,
    names.map((name) => {
      if (!(name in parameters)) throw new Error(`raw SQL parameter :${name} has no value`);
      return parameters[name];
    }),
  );
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
  const metadata = manager.dataSource.getMetadata(target);
  const driver = manager.dataSource.driver;
  const entity = {} as Record<string, unknown>;
  for (const column of metadata.columns) {
    entity[column.propertyName] = driver.prepareHydratedValue(row[column.databaseName], column);
  }
  return entity as T;
}

const insertTexts = new WeakMap<EntityMetadata, string>();

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
  const metadata = manager.dataSource.getMetadata(target);
  const columns = metadata.columns;
  let text = insertTexts.get(metadata);
  if (text === undefined) {
    text =
      `INSERT INTO "${metadata.tableName}" (${columns.map((c) => `"${c.databaseName}"`).join(', ')}) ` +
      `VALUES (${columns.map((c) => `:${c.propertyName}`).join(', ')})`;
    insertTexts.set(metadata, text);
  }
  const driver = manager.dataSource.driver;
  const values: Record<string, unknown> = {};
  for (const column of columns) {
    const value = column.getEntityValue(row);
    if (value === undefined) {
      throw new Error(`insertRow(${metadata.name}): no value for ${column.propertyName}`);
    }
    values[column.propertyName] = driver.preparePersistentValue(value, column);
  }
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
