import type { EntityManager } from 'typeorm';

import { isUniqueViolation } from './postback-database.js';
import { PostbackMeta } from './postback-meta.entity.js';
import { rawQuery } from './raw-sql.js';
import { dataSourceOf } from './typeorm-compat.js';

/** The meta table's name as the DataSource has it (entityPrefix included). */
function metaTable(manager: EntityManager): string {
  return dataSourceOf(manager).getMetadata(PostbackMeta).tableName;
}

/** The value stored under `name`, or undefined. */
export async function readMeta(manager: EntityManager, name: string): Promise<string | undefined> {
  const rows: { value: string }[] = await rawQuery(
    manager,
    `SELECT "value" FROM "${metaTable(manager)}" WHERE "name" = :name`,
    { name },
  );
  return rows[0]?.value;
}

/**
 * Stores `value` under `name` unless a value is there already, and returns the value that is
 * stored now: `value`, or the one another instance (or an earlier start) stored first.
 */
export async function claimMeta(
  manager: EntityManager,
  name: string,
  value: string,
): Promise<string> {
  const stored = await readMeta(manager, name);
  if (stored !== undefined) return stored;
  try {
    await rawQuery(
      manager,
      `INSERT INTO "${metaTable(manager)}" ("name", "value") VALUES (:name, :value)`,
      { name, value },
    );
    return value;
  } catch (error) {
    if (!isUniqueViolation(error)) throw error;
    return (await readMeta(manager, name)) ?? value;
  }
}
