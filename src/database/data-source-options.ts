import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

import type { DataSourceOptions } from 'typeorm';

import { POSTBACK_ENTITIES, POSTBACK_MIGRATIONS } from './postback-schema.js';

/** How SQLite trades write speed for durability; see the README. */
export type SqliteSynchronous = 'FULL' | 'NORMAL';

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
}

export const DEFAULT_DATABASE_URL = 'sqlite:./data/postback.sqlite';

/**
 * TypeORM options for the module's own tables, as the agent and the tests use them:
 * migrations run at start-up, never `synchronize`.
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
  return {
    ...common,
    type: 'better-sqlite3',
    database,
    enableWAL: !memory,
    timeout: 5_000,
    prepareDatabase: (db: { pragma(source: string): unknown }) => {
      db.pragma(`synchronous = ${synchronous}`);
    },
  };
}
