import { randomBytes } from 'node:crypto';

import mysql from 'mysql2/promise';
import pg from 'pg';

/**
 * The real database servers the `databases` jest project runs against. Each engine is probed
 * before the suites are declared; a test run gets its own scratch database on each server,
 * created through the server's `test` database and dropped afterwards.
 *
 * Host and port can be moved with POSTBACK_TEST_POSTGRES_HOST/_PORT and
 * POSTBACK_TEST_MARIADB_HOST/_PORT (handy to check the "server down" path against a closed port).
 */

export type EngineName = 'postgres' | 'mariadb';

export interface ProbeResult {
  ok: boolean;
  /** What each connection attempt said, when the server is unusable. */
  reason?: string;
  /** The user that could connect. */
  user?: string;
  version?: string;
}

export interface ScratchDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

export interface IndexInfo {
  table: string;
  unique: boolean;
  columns: string[];
}

export interface ColumnInfo {
  table: string;
  column: string;
  dataType: string;
}

/** The engine-specific SQL a schema test needs; run through the app's own DataSource. */
export interface SchemaQueries {
  tables: string;
  indexes: string;
  columns: string;
  /** Refreshes the optimizer's statistics of the outbox table. */
  analyzeOutbox: string;
  rowsToIndexes(rows: Record<string, unknown>[]): Map<string, IndexInfo>;
  rowsToColumns(rows: Record<string, unknown>[]): ColumnInfo[];
}

export interface DbEngine {
  name: EngineName;
  label: string;
  host: string;
  port: number;
  probe(timeoutMs?: number): Promise<ProbeResult>;
  /** Creates `postback_test_<random>`; call after a successful probe. */
  createScratchDatabase(probe: ProbeResult): Promise<ScratchDatabase>;
  schema: SchemaQueries;
}

const PROBE_TIMEOUT_MS = 2_000;
const BOOTSTRAP_DATABASE = 'test';

export const isCI = process.env.CI === 'true';

function scratchName(): string {
  return `postback_test_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
}

function envPort(name: string, fallback: number): number {
  const value = Number(process.env[name]);
  return Number.isInteger(value) && value > 0 ? value : fallback;
}

function message(error: unknown): string {
  const e = error as { message?: string; code?: string; errors?: unknown[] };
  // Node's happy-eyeballs AggregateError has an empty message; its code says enough.
  return e?.message || e?.code || String(error);
}

const pgHost = process.env.POSTBACK_TEST_POSTGRES_HOST ?? '127.0.0.1';
const pgPort = envPort('POSTBACK_TEST_POSTGRES_PORT', 5432);

export const postgres: DbEngine = {
  name: 'postgres',
  label: 'PostgreSQL',
  host: pgHost,
  port: pgPort,

  async probe(timeoutMs = PROBE_TIMEOUT_MS) {
    const failures: string[] = [];
    for (const user of ['postgres', 'root']) {
      const client = new pg.Client({
        host: pgHost,
        port: pgPort,
        user,
        database: BOOTSTRAP_DATABASE,
        connectionTimeoutMillis: timeoutMs,
      });
      try {
        await client.connect();
        const { rows } = await client.query<{ server_version: string }>('SHOW server_version');
        return { ok: true, user, version: rows[0]?.server_version };
      } catch (error) {
        failures.push(`${user}: ${message(error)}`);
      } finally {
        await client.end().catch(() => undefined);
      }
    }
    return { ok: false, reason: failures.join('; ') };
  },

  async createScratchDatabase(probe) {
    const user = probe.user as string;
    const admin = () =>
      new pg.Client({
        host: pgHost,
        port: pgPort,
        user,
        database: BOOTSTRAP_DATABASE,
      });
    const name = scratchName();
    const client = admin();
    await client.connect();
    try {
      await client.query(`CREATE DATABASE "${name}"`);
    } finally {
      await client.end();
    }
    return {
      name,
      url: `postgres://${user}@${pgHost}:${pgPort}/${name}`,
      async drop() {
        const c = admin();
        await c.connect();
        try {
          // FORCE: a connection an aborted test left open must not keep the database alive.
          await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
        } finally {
          await c.end();
        }
      },
    };
  },

  schema: {
    tables: `SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public'`,
    indexes: `
      SELECT i.relname AS index_name, t.relname AS table_name, ix.indisunique AS is_unique,
             a.attname AS column_name, k.ord AS position
        FROM pg_index ix
        JOIN pg_class i ON i.oid = ix.indexrelid
        JOIN pg_class t ON t.oid = ix.indrelid
        JOIN pg_namespace n ON n.oid = t.relnamespace
        CROSS JOIN LATERAL unnest(ix.indkey) WITH ORDINALITY AS k(attnum, ord)
        JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum
       WHERE n.nspname = 'public'
       ORDER BY i.relname, k.ord`,
    columns: `
      SELECT table_name, column_name, data_type
        FROM information_schema.columns
       WHERE table_schema = 'public'`,
    analyzeOutbox: 'ANALYZE postback_outbox',
    rowsToIndexes: (rows) => collectIndexes(rows, (r) => r.is_unique === true),
    rowsToColumns: toColumns,
  },
};

const myHost = process.env.POSTBACK_TEST_MARIADB_HOST ?? '127.0.0.1';
const myPort = envPort('POSTBACK_TEST_MARIADB_PORT', 3306);

export const mariadb: DbEngine = {
  name: 'mariadb',
  label: 'MariaDB',
  host: myHost,
  port: myPort,

  async probe(timeoutMs = PROBE_TIMEOUT_MS) {
    let connection: mysql.Connection | undefined;
    try {
      connection = await mysql.createConnection({
        host: myHost,
        port: myPort,
        user: 'root',
        password: '',
        database: BOOTSTRAP_DATABASE,
        connectTimeout: timeoutMs,
      });
      const [rows] = await connection.query('SELECT VERSION() AS version');
      return {
        ok: true,
        user: 'root',
        version: (rows as { version: string }[])[0]?.version,
      };
    } catch (error) {
      return { ok: false, reason: `root: ${message(error)}` };
    } finally {
      await connection?.end().catch(() => undefined);
    }
  },

  async createScratchDatabase() {
    const admin = () =>
      mysql.createConnection({
        host: myHost,
        port: myPort,
        user: 'root',
        password: '',
        database: BOOTSTRAP_DATABASE,
      });
    const name = scratchName();
    const connection = await admin();
    try {
      // Server defaults, as a merchant's `CREATE DATABASE shop` would get.
      await connection.query(`CREATE DATABASE \`${name}\``);
    } finally {
      await connection.end();
    }
    return {
      name,
      url: `mysql://root@${myHost}:${myPort}/${name}`,
      async drop() {
        const c = await admin();
        try {
          await c.query(`DROP DATABASE IF EXISTS \`${name}\``);
        } finally {
          await c.end();
        }
      },
    };
  },

  schema: {
    tables: `SELECT table_name AS name FROM information_schema.tables
              WHERE table_schema = DATABASE() AND table_type = 'BASE TABLE'`,
    indexes: `
      SELECT index_name, table_name, non_unique, column_name, seq_in_index AS position
        FROM information_schema.statistics
       WHERE table_schema = DATABASE()
       ORDER BY index_name, seq_in_index`,
    columns: `
      SELECT table_name, column_name, data_type
        FROM information_schema.columns
       WHERE table_schema = DATABASE()`,
    analyzeOutbox: 'ANALYZE TABLE postback_outbox',
    rowsToIndexes: (rows) => collectIndexes(rows, (r) => Number(r.non_unique) === 0),
    rowsToColumns: toColumns,
  },
};

/** information_schema column names may come back upper-case on MariaDB. */
function lowerKeys(row: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(row).map(([key, value]) => [key.toLowerCase(), value]));
}

function toColumns(rows: Record<string, unknown>[]): ColumnInfo[] {
  return rows.map(lowerKeys).map((r) => ({
    table: String(r.table_name),
    column: String(r.column_name),
    dataType: String(r.data_type).toLowerCase(),
  }));
}

function collectIndexes(
  rows: Record<string, unknown>[],
  isUnique: (row: Record<string, unknown>) => boolean,
): Map<string, IndexInfo> {
  const indexes = new Map<string, IndexInfo>();
  const sorted = rows.map(lowerKeys).sort((a, b) => Number(a.position) - Number(b.position));
  for (const row of sorted) {
    const name = String(row.index_name);
    const entry = indexes.get(name) ?? {
      table: String(row.table_name),
      unique: isUnique(row),
      columns: [],
    };
    entry.columns.push(String(row.column_name));
    indexes.set(name, entry);
  }
  return indexes;
}

export interface SchemaSnapshot {
  tables: string[];
  indexes: Map<string, IndexInfo>;
  columns: ColumnInfo[];
}

/** Reads tables, indexes and column types of the connected database through `query`. */
export async function inspectSchema(
  engine: DbEngine,
  query: (sql: string) => Promise<Record<string, unknown>[]>,
): Promise<SchemaSnapshot> {
  const tables = (await query(engine.schema.tables)).map(lowerKeys).map((r) => String(r.name));
  const indexes = engine.schema.rowsToIndexes(await query(engine.schema.indexes));
  const columns = engine.schema.rowsToColumns(await query(engine.schema.columns));
  return { tables: tables.sort(), indexes, columns };
}

export const ENGINES: DbEngine[] = [postgres, mariadb];

export interface ProbedEngine {
  engine: DbEngine;
  probe: ProbeResult;
  /** Printed when the engine's tests are skipped, thrown when CI requires the server. */
  unavailable?: string;
}

/**
 * Probes every engine at once. Outside CI an engine that does not answer is announced with
 * `console.warn` and its tests are skipped; in CI (`CI=true`) its tests fail with `unavailable`.
 */
export async function probeEngines(engines: DbEngine[] = ENGINES): Promise<ProbedEngine[]> {
  return Promise.all(
    engines.map(async (engine) => {
      const probe = await engine.probe();
      if (probe.ok) return { engine, probe };
      const where = `${engine.label} at ${engine.host}:${engine.port}`;
      const unavailable = isCI
        ? `${where} did not answer; CI needs it (${probe.reason})`
        : `${where} did not answer; skipping the ${engine.label} tests (${probe.reason})`;
      if (!isCI) console.warn(unavailable);
      return { engine, probe, unavailable };
    }),
  );
}
