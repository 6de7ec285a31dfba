export interface SqliteConnection {
  pragma(source: string): unknown;
  exec(source: string): unknown;
  close(): unknown;
}

/**
 * One process per SQLite file: two would claim the same due rows (SQLite has no SKIP LOCKED).
 * The lock is a companion file, `<database>-lock`, held in EXCLUSIVE mode by a connection of
 * its own (the OS drops it with the process, so no stale lock); not the database file itself,
 * which would shut out the module's own writer thread.
 */
export function lockForThisProcess(
  db: SqliteConnection,
  database: string,
  timeoutMs: number,
): void {
  // The connection's own class: better-sqlite3, as TypeORM loaded it.
  const Connection = db.constructor as new (
    file: string,
    options: { timeout: number },
  ) => SqliteConnection;
  const lock = new Connection(`${database}-lock`, { timeout: timeoutMs });
  try {
    lock.pragma('locking_mode = EXCLUSIVE');
    lock.exec('BEGIN EXCLUSIVE; COMMIT;');
  } catch (error) {
    lock.close();
    throw error;
  }
  const close = db.close.bind(db);
  db.close = () => {
    try {
      return close();
    } finally {
      lock.close();
    }
  };
}
