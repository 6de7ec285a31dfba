import type pg from 'pg';
import { DataSource, type EntitySubscriberInterface, QueryFailedError } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver.js';

import { postbackDataSourceOptions } from '../../src/postback.data-source.js';
import { isUniqueViolation } from '../../src/database/postback-database.js';
import { rawQuery } from '../../src/database/raw-sql.js';
import { describeEachDatabase, testDatabases } from '../utils/test-databases.js';

const postgres = (await testDatabases('servers')).filter((d) => d.kind === 'postgres');

const INSERT =
  'INSERT INTO "postback_clicks" ("id", "tracker", "click_id", "visitor_key", "customer_id", "landing_path", "sub_params", "first_seen_at", "last_seen_at") VALUES (:id, :tracker, :clickId, :visitorKey, NULL, :path, NULL, :at, :at)';
const SELECT =
  'SELECT "click_id" AS "clickId", "last_seen_at" AS "lastSeenAt" FROM "postback_clicks" WHERE "tracker" = :tracker ORDER BY "click_id"';
const UPDATE =
  'UPDATE "postback_clicks" SET "customer_id" = :customerId WHERE "tracker" = :tracker';

const click = (n: number) => ({
  id: `00000000-0000-7000-8000-${String(n).padStart(12, '0')}`,
  tracker: 'net',
  clickId: `c-${n}`,
  visitorKey: '',
  path: '/',
  at: 1_700_000_000_000 + n,
});

/**
 * On PostgreSQL, rawQuery outside a transaction sends its statement straight to the pool as a
 * named prepared statement, not through TypeORM's query runner. What the rest of the module
 * (and a host) relies on must not change with it.
 */
describeEachDatabase(postgres, (database) => {
  let dataSource: DataSource;
  let drop: () => Promise<void>;
  let logged: string[];
  let failed: string[];

  beforeEach(async () => {
    const scratch = await database.create();
    drop = scratch.drop;
    dataSource = await new DataSource(postbackDataSourceOptions({ url: scratch.url })).initialize();
    logged = [];
    failed = [];
    const logger = dataSource.logger;
    logger.logQuery = (query) => void logged.push(query);
    logger.logQueryError = (error) => void failed.push(String(error));
  });
  afterEach(async () => {
    await dataSource?.destroy();
    await drop();
  });

  const pool = () => (dataSource.driver as PostgresDriver).master as pg.Pool;

  it('answers exactly as manager.query does: rows, and [rows, count] for an UPDATE', async () => {
    const direct = dataSource.manager;
    await rawQuery(direct, INSERT, click(1));
    await rawQuery(direct, INSERT, click(2));
    const viaTypeOrm = (text: string, parameters: Record<string, unknown>) =>
      dataSource.transaction((m) => rawQuery(m, text, parameters));

    const rows = await rawQuery(direct, SELECT, { tracker: 'net' });
    expect(rows).toEqual(await viaTypeOrm(SELECT, { tracker: 'net' }));
    // BIGINT comes back as the driver hands it, a string, as through TypeORM.
    expect(rows).toEqual([
      { clickId: 'c-1', lastSeenAt: '1700000000001' },
      { clickId: 'c-2', lastSeenAt: '1700000000002' },
    ]);
    expect(await rawQuery(direct, UPDATE, { customerId: 'K', tracker: 'net' })).toEqual(
      await viaTypeOrm(UPDATE, { customerId: 'K', tracker: 'net' }),
    );
    expect(await rawQuery(direct, UPDATE, { customerId: 'K', tracker: 'net' })).toEqual([[], 2]);
    // The data source's logger hears of every statement, whichever way it went.
    expect(logged.filter((q) => q.startsWith('UPDATE'))).toHaveLength(3);
  });

  it('fails as TypeORM does, logs it, and keeps the connection in the pool', async () => {
    const backend = async () =>
      (
        (await rawQuery(dataSource.manager, 'SELECT pg_backend_pid() AS "pid"', {})) as {
          pid: number;
        }[]
      )[0].pid;
    await rawQuery(dataSource.manager, INSERT, click(1));
    const before = await backend();
    const error = await rawQuery(dataSource.manager, INSERT, click(1)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(QueryFailedError);
    expect(isUniqueViolation(error)).toBe(true);
    expect(failed).toHaveLength(1);
    // A refused row says nothing against the connection: it goes back to the pool, open, and
    // (the pool hands out its most recently released one) serves the next statement.
    expect(await backend()).toBe(before);
  });

  it('falls back to unnamed statements when the server does not know a prepared one', async () => {
    await rawQuery(dataSource.manager, INSERT, click(1));
    expect(await rawQuery(dataSource.manager, SELECT, { tracker: 'net' })).toHaveLength(1);
    // What a pooler in transaction mode does: the next statement lands on a server connection
    // that never prepared it, while the client connection believes it did.
    const clients = await Promise.all(
      Array.from({ length: pool().totalCount }, () => pool().connect()),
    );
    for (const c of clients) {
      await c.query('DEALLOCATE ALL');
      c.release();
    }
    expect(await rawQuery(dataSource.manager, SELECT, { tracker: 'net' })).toHaveLength(1);
    await rawQuery(dataSource.manager, INSERT, click(2));
    expect(await rawQuery(dataSource.manager, SELECT, { tracker: 'net' })).toHaveLength(2);
    expect(failed).toEqual([]);
  });

  it('goes through TypeORM while an entity subscriber listens for queries', async () => {
    const seen: string[] = [];
    const subscriber: EntitySubscriberInterface = {
      // Typed by the interface: BeforeQueryEvent is generic in TypeORM 0.3, not in 1.x.
      beforeQuery: (event) => void seen.push(event.query),
    };
    dataSource.subscribers.push(subscriber);
    await rawQuery(dataSource.manager, INSERT, click(1));
    expect(seen).toEqual([expect.stringMatching(/^INSERT INTO "postback_clicks"/)]);
  });
});
