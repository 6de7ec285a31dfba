import type { DataSource } from 'typeorm';

import { LOCK_PROBE_TIMEOUT_MS } from './sqlite-lock-wait.js';
import { SqliteWriterThread } from './sqlite-writer-thread.js';

/**
 * A writer thread whose connection syncs as the main one does. Its wait for a lock would not
 * hold the event loop, but it would hold the queue (reads, health checks): it gives up as
 * soon as the main connection does, and the batch is queued again (see
 * `PostbackDatabase.writeOffThread`).
 */
export async function startSqliteWriter(dataSource: DataSource): Promise<SqliteWriterThread> {
  const query = async <T>(pragma: string) =>
    ((await dataSource.query(`PRAGMA ${pragma}`)) as T[])[0];
  // The main connection's file as SQLite resolved it: the same file whatever the cwd.
  const { file } = await query<{ file: string }>('database_list');
  const { synchronous } = await query<{ synchronous: number }>('synchronous');
  const writer = new SqliteWriterThread({
    file,
    synchronous,
    busyTimeoutMs: LOCK_PROBE_TIMEOUT_MS,
  });
  writer.start();
  return writer;
}
