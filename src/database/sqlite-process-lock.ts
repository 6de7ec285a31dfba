export interface SqliteConnection {
  pragma(source: string): unknown;
  exec(source: string): unknown;
  close(): unknown;
}

/**
 * One process per SQLite file. Two agents on one file would each claim the same due rows (a
 * claim there is a plain UPDATE: SQLite has no SKIP LOCKED), so the second is refused at
 * start-up.
 *
 * The lock is a companion file, `<database>-lock`, held in EXCLUSIVE locking mode by a
 * connection of its own for as long as the main connection is open; the operating system
 * drops it if the process dies, so a crash never leaves a stale lock behind. Not the database
 * file itself in EXCLUSIVE mode: that would shut out the module's own writer thread (see
 * SqliteWriterThread), a second connection of the same process.
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
