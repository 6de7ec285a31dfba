import type { DataSource, EntityManager } from 'typeorm';

import { DIALECTS, dialectOf } from './dialect/dialect-of.js';

export interface TransactionOptions {
  /** `work` is correct under any isolation level; see `PostbackDatabase.transaction`. */
  anyIsolation?: boolean;
  /**
   * On PostgreSQL, everything `work` writes goes in one statement, if any, and nothing after
   * that statement can fail; with `anyIsolation`, it then runs without BEGIN and COMMIT. See
   * `PostbackDatabase.transaction`. Other engines ignore it.
   */
  singleWrite?: boolean;
  /** On SQLite, when waiting out another process's write lock ends (from `lockDeadline()`). */
  lockDeadline?: number;
}

/**
 * A transaction on PostgreSQL or MySQL/MariaDB (see `PostbackDatabase.transaction` for the
 * isolation levels and `TransactionOptions`), run again a few times when the server rolled it
 * back as a deadlock victim or for a serialization failure.
 */
export async function serverTransaction<T>(
  dataSource: DataSource,
  work: (manager: EntityManager) => Promise<T>,
  options: TransactionOptions,
): Promise<T> {
  const dialect = dialectOf(dataSource);
  const anyIsolation = options.anyIsolation && dialect.serverDefaultIsolation;
  const isolation = anyIsolation ? undefined : 'READ COMMITTED';
  const autocommit = anyIsolation && options.singleWrite;
  for (let attempt = 1; ; attempt++) {
    try {
      return await (autocommit
        ? work(dataSource.manager)
        : isolation
          ? dataSource.transaction(isolation, work)
          : dataSource.transaction(work));
    } catch (error) {
      if (attempt >= MAX_TRANSACTION_ATTEMPTS || !dialect.isTransientConflict(error)) throw error;
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 20 * attempt));
    }
  }
}

const MAX_TRANSACTION_ATTEMPTS = 4;

/** A deadlock or serialization failure, on any engine: the server rolled the transaction back. */
export function isTransientConflict(error: unknown): boolean {
  return DIALECTS.some((dialect) => dialect.isTransientConflict(error));
}
