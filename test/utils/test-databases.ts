import { isCI, probeEngines } from './db-servers.js';
import { tempDir } from './sqlite.js';

/** A database engine a suite runs on, and how to get a fresh, empty database of it. */
export interface TestDatabase {
  label: string;
  /** Why the server cannot be used; its tests are skipped, or fail under CI=true. */
  unavailable?: string;
  create(): Promise<{ url: string; drop(): Promise<void> }>;
}

/** SQLite always; PostgreSQL and MariaDB when their servers answer (see db-servers.ts). */
export async function testDatabases(): Promise<TestDatabase[]> {
  const servers = await probeEngines();
  return [
    {
      label: 'SQLite',
      create: async () => {
        const dir = tempDir();
        return { url: `sqlite:${dir.path}/test.sqlite`, drop: async () => dir.remove() };
      },
    },
    ...servers.map(({ engine, probe, unavailable }) => ({
      label: engine.label,
      unavailable,
      create: async () => {
        const scratch = await engine.createScratchDatabase(probe);
        return { url: scratch.url, drop: () => scratch.drop() };
      },
    })),
  ];
}

/**
 * `describe` once per database. A server that does not answer skips its block outside CI
 * (the reason was printed) and fails it under CI=true.
 */
export function describeEachDatabase(
  databases: TestDatabase[],
  body: (database: TestDatabase) => void,
): void {
  for (const database of databases) {
    if (database.unavailable && !isCI) {
      // Skipped only on a machine without that server (the reason was printed by the probe and
      // stands in the title); under CI=true the block runs and fails with the reason instead.
      describe.skip(`${database.label} (server did not answer)`, () => body(database));
      continue;
    }
    describe(database.label, () => {
      if (database.unavailable) {
        beforeAll(() => {
          throw new Error(database.unavailable);
        });
      }
      body(database);
    });
  }
}
