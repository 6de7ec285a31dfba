import type { DataSource } from 'typeorm';

import { dialectOf } from './dialect/dialect-of.js';
import { PostbackMeta } from './postback-meta.entity.js';
import { rawQuery } from './raw-sql.js';
import { sqliteTransaction } from './sqlite-transaction.js';

/**
 * The smallest write that proves the database takes writes again, for an instance that is idle
 * once an outage ends (nothing else would clear its failing health). On SQLite a table created
 * and dropped in one transaction: it needs a free page, as an insert does (a pragma would not).
 * On the servers an UPDATE matching no row, which a read-only server refuses (`SELECT 1` would
 * not). Why these two: docs/internals/design-decisions.md.
 */
export async function probeWrite(dataSource: DataSource): Promise<void> {
  if (!dialectOf(dataSource).serialised) {
    const table = dataSource.getMetadata(PostbackMeta).tableName;
    await dataSource.transaction((manager) =>
      rawQuery(manager, `UPDATE "${table}" SET "value" = "value" WHERE 1 = 0`, {}),
    );
    return;
  }
  await sqliteTransaction(
    dataSource,
    async (manager) => {
      await manager.query('CREATE TABLE "postback_write_probe" ("x" INTEGER)');
      await manager.query('DROP TABLE "postback_write_probe"');
    },
    false,
  );
}
