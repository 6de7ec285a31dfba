import type { DataSource, EntityManager } from 'typeorm';

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
  const anyIsolation = options.anyIsolation && dataSource.options.type === 'postgres';
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
      if (attempt >= MAX_TRANSACTION_ATTEMPTS || !isTransientConflict(error)) throw error;
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 20 * attempt));
    }
  }
}

const MAX_TRANSACTION_ATTEMPTS = 4;

/** A deadlock or serialization failure: the server rolled the transaction back; rerun it. */
export function isTransientConflict(error: unknown): boolean {
  const driverError = (error as { driverError?: { code?: string; errno?: number } })?.driverError;
  const code = driverError?.code ?? (error as { code?: string })?.code;
  return (
    code === '40P01' || // PostgreSQL deadlock_detected
    code === '40001' || // serialization_failure
    code === 'ER_LOCK_DEADLOCK' ||
    driverError?.errno === 1213 ||
    code === 'ER_LOCK_WAIT_TIMEOUT' ||
    driverError?.errno === 1205
  );
}
