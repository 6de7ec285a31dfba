import type { DataSource } from 'typeorm';

import { dialectOf } from './dialect/dialect-of.js';
import { PostbackMeta } from './postback-meta.entity.js';
import { rawQuery } from './raw-sql.js';
import { sqliteTransaction } from './sqlite-transaction.js';

/**
 * The smallest write that proves the database takes writes again, for an instance that is idle
 * once an outage ends (nothing else would clear its failing health).
 *
 * On SQLite, a table created and dropped in one committed transaction: it needs a free page
 * (a full file or disk refuses it, as it refuses an insert), writes the schema page, and
 * commits with the sync an event's commit has; no row of any table is touched, and no other
 * connection ever sees the table. A pragma such as `user_version` would write the header page
 * only, and pass while every insert is refused for want of room. On the server engines, an
 * UPDATE of the module's meta table that matches no row, in a committed transaction: it needs
 * the server and a connection, and a server that refuses writes (a read-only replica after a
 * failover, `default_transaction_read_only`, MySQL's `read_only`) refuses it before looking for
 * rows, where a `SELECT 1` would pass and call the outage over.
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
