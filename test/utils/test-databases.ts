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
 * `describe` once per database. A server that does not answer has its block left out outside CI
 * (the reason was printed) and failed under CI=true.
 */
export function describeEachDatabase(
  databases: TestDatabase[],
  body: (database: TestDatabase) => void,
): void {
  for (const database of databases) {
    // On a machine without that server its tests are not declared; the probe has printed why.
    // Under CI=true they are declared and fail with the reason instead.
    if (database.unavailable && !isCI) continue;
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
