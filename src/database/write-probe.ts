import type { DataSource } from 'typeorm';

import { sqliteTransaction } from './sqlite-transaction.js';

/**
 * The smallest write that proves the database takes writes again, for an instance that is idle
 * once an outage ends (nothing else would clear its failing health).
 *
 * On SQLite, a table created and dropped in one committed transaction: it needs a free page
 * (a full file or disk refuses it, as it refuses an insert), writes the schema page, and
 * commits with the sync an event's commit has; no row of any table is touched, and no other
 * connection ever sees the table. A pragma such as `user_version` would write the header page
 * only, and pass while every insert is refused for want of room. On the server engines, a
 * committed transaction: it needs the server and a connection.
 */
export async function probeWrite(dataSource: DataSource): Promise<void> {
  if (
    dataSource.options.type === 'postgres' ||
    dataSource.options.type === 'mysql' ||
    dataSource.options.type === 'mariadb'
  ) {
    await dataSource.transaction((manager) => manager.query('SELECT 1'));
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
