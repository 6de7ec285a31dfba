import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

import type { DataSourceOptions } from 'typeorm';

import { markDedicated } from './database/dedicated-database.js';
import { lockForThisProcess, type SqliteConnection } from './database/sqlite-process-lock.js';
import { POSTBACK_ENTITIES, POSTBACK_MIGRATIONS } from './postback.schema.js';

/** How SQLite trades write speed for durability; see the README. @publicApi */
export type SqliteSynchronous = 'FULL' | 'NORMAL';

/** What `postbackDataSourceOptions()` builds its DataSource from. @publicApi */
export interface PostbackDataSourceSettings {
  /**
   * `sqlite:<path>` (or a bare path, or `:memory:`), `postgres://…`, `mysql://…` or `mariadb://…`.
   * @default 'sqlite:./data/postback.sqlite'
   */
  url?: string;
  /**
   * SQLite `synchronous` level under WAL: FULL survives power loss, NORMAL survives a process
   * crash but may lose the last commits on power loss.
   * @default 'FULL'
   */
  sqliteSynchronous?: SqliteSynchronous;
  /**
   * How long a write waits for a lock held by another process before giving up; the module
   * waits asynchronously, never in SQLite's busy handler (see SqliteLockWait). @default 5000
   */
  sqliteBusyTimeoutMs?: number;
}

export const DEFAULT_DATABASE_URL = 'sqlite:./data/postback.sqlite';

/**
 * TypeORM options for the module's own tables, as the agent and the tests use them:
 * migrations run at start-up, never `synchronize`. A DataSource built from them is the
 * module's alone (see `PostbackModuleOptions.sqliteWriterThread`).
 *
 * @publicApi
 */
export function postbackDataSourceOptions(
  settings: PostbackDataSourceSettings = {},
): DataSourceOptions {
  const url = settings.url ?? DEFAULT_DATABASE_URL;
  const common = {
    entities: POSTBACK_ENTITIES,
    migrations: POSTBACK_MIGRATIONS,
    migrationsRun: true,
    migrationsTableName: 'postback_migrations',
  };
  if (/^postgres(ql)?:\/\//i.test(url)) {
    return { ...common, type: 'postgres', url };
  }
  if (/^(mysql|mariadb):\/\//i.test(url)) {
    return { ...common, type: 'mysql', url: url.replace(/^mariadb:/i, 'mysql:') };
  }
  const database = url.replace(/^sqlite:(\/\/)?/i, '');
  const memory = database === ':memory:';
  if (!memory) mkdirSync(dirname(database), { recursive: true });
  const synchronous = settings.sqliteSynchronous ?? 'FULL';
  const prepareDatabase = (db: SqliteConnection) => {
    try {
      db.pragma(`synchronous = ${synchronous}`);
      // A statement that may fail halfway inside a transaction (every multi-row upsert of
      // the click buffer, the outbox's writes) first copies each page it changes to a
      // statement journal, by default a temporary FILE: a pwrite per page, half the write
      // calls of a click batch. In memory it costs a few pages of RAM for as long as the
      // statement runs; durability is the WAL's and does not change.
      db.pragma('temp_store = MEMORY');
      if (!memory) lockForThisProcess(db, database, settings.sqliteBusyTimeoutMs ?? 5_000);
    } catch (error) {
      if ((error as { code?: string }).code?.startsWith('SQLITE_BUSY')) {
        throw new Error(
          `SQLite database ${database} is in use by another process. One process per SQLite ` +
            'file: run several instances on PostgreSQL or MySQL/MariaDB (DATABASE_URL).',
        );
      }
      throw error;
    }
  };
  markDedicated(prepareDatabase);
  return {
    ...common,
    type: 'better-sqlite3',
    database,
    enableWAL: !memory,
    timeout: settings.sqliteBusyTimeoutMs ?? 5_000,
    prepareDatabase,
  };
}
