import type { QueryRunner } from 'typeorm';

import { DatabaseUnavailableError } from '../errors/database-unavailable.error.js';

/** Longest the module's unit waits for a host's transaction on the shared connection. */
export const HOST_TRANSACTION_WAIT_MS = 5_000;
const MAX_POLL_MS = 50;

/**
 * On a SQLite DataSource the host shares with the module, TypeORM runs everything on one
 * connection: a unit of the module's started while a transaction of the host's is open (it
 * spans the host's awaits) would run inside it, as a savepoint, and its "commit" would be
 * the host's to make or roll back. The module would then acknowledge events the host can
 * still roll away, after their postbacks went out. So the unit waits, off the event loop,
 * until the host's transaction has ended; one still open after the bound is an outage for
 * the module (503, retry later), never a reason to write inside it.
 *
 * TypeORM's flag alone, with SQLite holding no transaction, is also how a host's
 * `startTransaction` looks for an instant before its BEGIN; after the bound it can only be
 * stale (a failed ROLLBACK of the host's), which the caller then settles.
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
