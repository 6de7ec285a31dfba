/**
 * PostgreSQL scratch databases for the figures on PostgreSQL, created through the server's
 * `test` database as the tests do (test/utils/db-servers.ts), dropped after each run.
 */
import { postgres, type ScratchDatabase } from '../../test/utils/db-servers.js';
import { progress } from './progress.js';

const scratches = new Set<ScratchDatabase>();

/** A fresh database on the local PostgreSQL; dropped by `dropScratch` (or at exit). */
export async function postgresScratch(): Promise<ScratchDatabase> {
  const probe = await postgres.probe();
  if (!probe.ok) {
    throw new Error(
      `PostgreSQL not reachable at ${postgres.host}:${postgres.port} (${probe.reason})`,
    );
  }
  const scratch = await postgres.createScratchDatabase(probe);
  scratches.add(scratch);
  return scratch;
}

export async function dropScratch(scratch: ScratchDatabase): Promise<void> {
  scratches.delete(scratch);
  await scratch
    .drop()
    .catch((error: Error) => progress(`  could not drop ${scratch.name}: ${error.message}`));
}

export async function dropAllScratches(): Promise<void> {
  await Promise.all([...scratches].map(dropScratch));
}
