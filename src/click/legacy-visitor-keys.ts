import type { PostbackDatabase } from '../database/postback-database.js';
import { rawQuery } from '../database/raw-sql.js';
import { Click } from './click.entity.js';
import { isVisitorKeyDigest } from './visitor-key.js';

/** Rows read per statement; an update carries two parameters per row it rewrites. */
const BATCH = 200;
/** The table `Conversion` names (`@Entity`), before a DataSource's entityPrefix. */
const CONVERSIONS = 'postback_conversions';

/**
 * Replaces the visitor keys earlier versions stored in clear (session IDs, custom keys) by
 * their digest, in id order, a batch per statement: no transaction spans the table, and a
 * pass cut short (a crash, a deploy) is taken up again by the next start. A stored digest is
 * recognised by its `v1:` form and left alone, so no key is ever hashed twice. Done in code:
 * SQLite and MariaDB have no SHA-256 or HMAC function, and the digest must be the module's.
 */
export async function hashLegacyVisitorKeys(
  db: PostbackDatabase,
  hash: (key: string) => string,
): Promise<number> {
  let hashed = 0;
  // The DataSource's names for the tables, an entityPrefix included. The conversions table is
  // found by the name its entity gives it: click/ does not import conversion/.
  const { dataSource } = db;
  const conversions =
    dataSource.entityMetadatas.find((metadata) => metadata.givenTableName === CONVERSIONS)
      ?.tableName ?? CONVERSIONS;
  for (const table of [dataSource.getMetadata(Click).tableName, conversions]) {
    for (let after = ''; ;) {
      const rows: { id: string; visitor_key: string }[] = await db.run((m) =>
        rawQuery(
          m,
          `SELECT "id", "visitor_key" FROM "${table}" WHERE "id" > :after AND "visitor_key" IS NOT NULL AND "visitor_key" <> :none ORDER BY "id" LIMIT ${BATCH}`,
          { after, none: '' },
        ),
      );
      if (rows.length === 0) break;
      after = rows[rows.length - 1].id;
      const clear = rows.filter((row) => !isVisitorKeyDigest(row.visitor_key));
      if (clear.length > 0) await rewrite(db, table, clear, hash);
      hashed += clear.length;
    }
  }
  return hashed;
}

/** One UPDATE for the batch: atomic by itself on every engine. */
function rewrite(
  db: PostbackDatabase,
  table: string,
  rows: { id: string; visitor_key: string }[],
  hash: (key: string) => string,
): Promise<unknown> {
  const cases = rows.map((_, i) => `WHEN :id${i} THEN :key${i}`).join(' ');
  const ids = rows.map((_, i) => `:id${i}`).join(', ');
  const values: Record<string, string> = {};
  rows.forEach((row, i) => {
    values[`id${i}`] = row.id;
    values[`key${i}`] = hash(row.visitor_key);
  });
  return db.run((m) =>
    rawQuery(
      m,
      `UPDATE "${table}" SET "visitor_key" = CASE "id" ${cases} END WHERE "id" IN (${ids})`,
      values,
      { prepare: false },
    ),
  );
}
