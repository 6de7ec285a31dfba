import type { DataSource, EntityManager } from 'typeorm';

/**
 * The module's only way into the database.
 *
 * TypeORM's SQLite drivers run everything on one connection: two overlapping transactions
 * collide ("cannot start a transaction within a transaction"), and a plain write issued while
 * another caller's transaction is open silently joins it. On SQLite every unit of work is
 * therefore queued behind the previous one (better-sqlite3 is synchronous, so the queue costs
 * little). PostgreSQL and MySQL/MariaDB use the pool as usual.
 */
export class PostbackDatabase {
  readonly serialised: boolean;
  private tail: Promise<unknown> = Promise.resolve();

  constructor(readonly dataSource: DataSource) {
    const type = dataSource.options.type;
    this.serialised = type === 'better-sqlite3' || type === 'sqljs' || type === 'capacitor';
  }

  /** Runs reads or single writes; `work` must only use the manager it is given. */
  run<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.exclusive(() => work(this.dataSource.manager));
  }

  /** Runs `work` in one transaction: everything it writes commits together, or nothing. */
  transaction<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.exclusive(() => this.dataSource.transaction(work));
  }

  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    if (!this.serialised) return work();
    const result = this.tail.then(work, work);
    this.tail = result.catch(() => undefined);
    return result;
  }
}

/** A unique-index violation, on any of the supported engines. */
export function isUniqueViolation(error: unknown): boolean {
  const driverError = (error as { driverError?: { code?: string; errno?: number } })?.driverError;
  const code = driverError?.code ?? (error as { code?: string })?.code;
  return (
    code === 'SQLITE_CONSTRAINT_UNIQUE' ||
    code === 'SQLITE_CONSTRAINT_PRIMARYKEY' ||
    code === '23505' ||
    code === 'ER_DUP_ENTRY' ||
    driverError?.errno === 1062
  );
}
