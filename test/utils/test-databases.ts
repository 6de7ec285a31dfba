import {
  type DbEngine,
  type EngineName,
  isCI,
  type ProbeResult,
  probeEngines,
  type ScratchDatabase,
} from './db-servers.js';
import { tempDir } from './sqlite.js';

export type EngineKind = 'sqlite' | EngineName;

/** A database engine a suite runs on, and how to get a fresh, empty database of it. */
export interface TestDatabase {
  kind: EngineKind;
  label: string;
  /** The server's version, when it answered. */
  version?: string;
  /** The server and what its probe found, for tests that query it directly; none for SQLite. */
  server?: { engine: DbEngine; probe: ProbeResult };
  /** Why the server cannot be used; its tests are skipped, or fail under CI=true. */
  unavailable?: string;
  create(): Promise<ScratchDatabase>;
}

/**
 * The engine matrix: SQLite always; PostgreSQL and MariaDB when their servers answer (see
 * db-servers.ts). Pass `servers` for the suites that need more than one process on a database.
 */
export async function testDatabases(which: 'all' | 'servers' = 'all'): Promise<TestDatabase[]> {
  const servers = (await probeEngines()).map(({ engine, probe, unavailable }): TestDatabase => ({
    kind: engine.name,
    label: engine.label,
    version: probe.version,
    server: { engine, probe },
    unavailable,
    create: () => engine.createScratchDatabase(probe),
  }));
  if (which === 'servers') return servers;
  const sqlite: TestDatabase = {
    kind: 'sqlite',
    label: 'SQLite',
    create: async () => {
      const dir = tempDir();
      const name = 'test.sqlite';
      return { name, url: `sqlite:${dir.path}/${name}`, drop: async () => dir.remove() };
    },
  };
  return [sqlite, ...servers];
}

/** `PostgreSQL 16.4`, or what went wrong: for a suite's heading. */
export function headingOf(database: TestDatabase): string {
  if (database.unavailable) return `${database.label}: server did not answer`;
  return database.version ? `${database.label} ${database.version}` : database.label;
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
