import type { DataSource, EntityTarget, ObjectLiteral } from 'typeorm';

/**
 * Hand-written SQL for the outbox's hot paths. TypeORM's query builders spend tens of
 * microseconds per statement on parameter handling alone (more with multi-row statements),
 * which is as much as the database's own work for a batch; plain SQL with positional
 * parameters also keeps the text stable, so TypeORM's SQLite statement cache reuses it.
 *
 * Statements are written with `?` placeholders (never inside string literals) and use the
 * migration's column names; PostgreSQL gets `$1, $2, …`.
 */
export class RawSql {
  private readonly postgres: boolean;
  private readonly tables = new Map<EntityTarget<ObjectLiteral>, string>();
  private readonly texts = new Map<string, string>();

  constructor(private readonly dataSource: DataSource) {
    this.postgres = dataSource.options.type === 'postgres';
  }

  /** The entity's table as the host's DataSource names it (entityPrefix, schema), quoted. */
  table(entity: EntityTarget<ObjectLiteral>): string {
    let name = this.tables.get(entity);
    if (name === undefined) {
      const { driver } = this.dataSource;
      name = this.dataSource
        .getMetadata(entity)
        .tablePath.split('.')
        .map((part) => driver.escape(part))
        .join('.');
      this.tables.set(entity, name);
    }
    return name;
  }

  /** `(?, ?), (?, ?)`: `rows` tuples of `width` placeholders, for a multi-row INSERT. */
  tuples(rows: number, width: number): string {
    const tuple = `(${Array(width).fill('?').join(', ')})`;
    return Array(rows).fill(tuple).join(', ');
  }

  /** `(?, ?, ?)`: a list of `count` placeholders, for `IN`. */
  list(count: number): string {
    return `(${Array(count).fill('?').join(', ')})`;
  }

  /** The statement in the driver's placeholder syntax (cached: the same text comes back). */
  sql(text: string): string {
    if (!this.postgres) return text;
    let converted = this.texts.get(text);
    if (converted === undefined) {
      let n = 0;
      converted = text.replace(/\?/g, () => `$${++n}`);
      if (this.texts.size > 500) this.texts.clear();
      this.texts.set(text, converted);
    }
    return converted;
  }
}
