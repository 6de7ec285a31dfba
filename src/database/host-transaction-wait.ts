import type { QueryRunner } from 'typeorm';

import { DatabaseUnavailableError } from '../errors/database-unavailable.error.js';

/** Longest the module's unit waits for a host's transaction on the shared connection. */
export const HOST_TRANSACTION_WAIT_MS = 5_000;
const MAX_POLL_MS = 50;

/**
 * On a SQLite DataSource shared with the host, TypeORM has one connection: a unit started
 * inside an open host transaction would become its savepoint, and the module would acknowledge
 * events the host can still roll back. So the unit waits, off the event loop, for the host's
 * transaction to end; past the bound that is an outage (503), never a reason to write inside it.
 * TypeORM's flag without a SQLite transaction is a host's `startTransaction` just before its
 * BEGIN, or, past the bound, stale (a failed ROLLBACK), which the caller settles.
 */
export async function waitForHostTransaction(
  runner: QueryRunner,
  connection: { readonly inTransaction: boolean } | undefined,
  boundMs = HOST_TRANSACTION_WAIT_MS,
): Promise<void> {
  if (!connection?.inTransaction && !runner.isTransactionActive) return;
  const started = performance.now();
  for (let delay = 1; connection?.inTransaction || runner.isTransactionActive;) {
    if (performance.now() - started + delay > boundMs) {
      if (!connection?.inTransaction) return;
      throw new DatabaseUnavailableError(
        `a transaction of the host's own has held the shared SQLite connection for ${boundMs} ms`,
        Math.max(1, Math.ceil(boundMs / 1_000)),
      );
    }
    await new Promise((resolve) => setTimeout(resolve, delay));
    delay = Math.min(2 * delay, MAX_POLL_MS);
  }
}
