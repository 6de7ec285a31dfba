/**
 * Child process: conversions recorded per second, in-process, with no HTTP. On SQLite (WAL,
 * at `--synchronous`) in a temp dir, or on the database `--url` names (a PostgreSQL scratch
 * database the orchestrator created).
 *
 *   --mode=module  ConversionService.record() (validation, attribution by explicit click ID,
 *                  commission, conversion + outbox rows in one transaction), `--concurrency`
 *                  callers;
 *   --mode=bare    the same two rows (every column of a conversion row and of an outbox row)
 *                  inserted in one transaction without the module: on SQLite a bare
 *                  better-sqlite3 transaction with prepared statements, one at a time (the
 *                  driver is synchronous); on PostgreSQL a bare `pg` pool (the size TypeORM's
 *                  pool has by default, 10) with BEGIN, two parameterised INSERTs, COMMIT,
 *                  `--concurrency` callers;
 *   --mode=count   the module path with a TypeORM logger that counts the statements per event.
 *
 * Each mode runs `--warmup` events first, then times `--count` events. The schema is always the
 * module's own, created by its migration.
 */
import 'reflect-metadata';

import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';

import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ScheduleModule } from '@nestjs/schedule';
import { TypeOrmModule } from '@nestjs/typeorm';
import Database from 'better-sqlite3';
import pg from 'pg';
import { DataSource, type Logger as TypeOrmLogger } from 'typeorm';

import { postbackDataSourceOptions } from '../../src/postback.data-source.js';
import { ConversionService, PostbackModule } from '../../src/index.js';
import { tempDir } from '../lib/temp-dir.js';
import { benchTracker, purchase, TRACKER } from '../lib/tracker.js';
import { args, fail, runConcurrently, send, sqliteSynchronous } from './child.js';

class StatementCounter implements TypeOrmLogger {
  readonly counts = new Map<string, number>();
  total = 0;
  logQuery(query: string): void {
    this.total++;
    const shape = query.replace(/\s+/g, ' ').slice(0, 90);
    this.counts.set(shape, (this.counts.get(shape) ?? 0) + 1);
  }
  logQueryError(): void {}
  logQuerySlow(): void {}
  logSchemaBuild(): void {}
  logMigration(): void {}
  log(): void {}
}

async function moduleMode(
  url: string,
  count: number,
  warmup: number,
  concurrency: number,
  logger?: StatementCounter,
): Promise<Record<string, unknown>> {
  @Module({
    imports: [
      TypeOrmModule.forRoot({
        ...postbackDataSourceOptions({ url, sqliteSynchronous: sqliteSynchronous() }),
        ...(logger && { logging: ['query'], logger }),
      }),
      ScheduleModule.forRoot(),
      PostbackModule.forRoot({
        trackers: [benchTracker('http://127.0.0.1:9')],
        capture: { enabled: false },
        // In-process recording only: no flusher competing for the connection.
        outbox: { enabled: false },
      }),
    ],
  })
  class RecordModule {}

  const app = await NestFactory.createApplicationContext(RecordModule, {
    logger: ['error', 'warn', 'fatal'],
  });
  const conversions = app.get(ConversionService);
  const dataSource = app.get(DataSource);
  const settings = await databaseSettings(dataSource);

  await runConcurrently(warmup, concurrency, (n) => conversions.record(purchase('warm', n)));
  if (logger) {
    logger.total = 0;
    logger.counts.clear();
  }
  const started = performance.now();
  let queued = 0;
  await runConcurrently(count, concurrency, async (n) => {
    const result = await conversions.record(purchase('ord', n));
    if (result.queued) queued++;
  });
  const seconds = (performance.now() - started) / 1000;
  await app.close();
  return {
    perSecond: count / seconds,
    seconds,
    count,
    queued,
    concurrency,
    ...settings,
    ...(logger && {
      statementsPerEvent: logger.total / count,
      statements: Object.fromEntries(
        [...logger.counts].map(([shape, n]) => [shape, +(n / count).toFixed(2)]),
      ),
    }),
  };
}

/** How the database is set up where it matters to write speed. */
async function databaseSettings(dataSource: DataSource): Promise<Record<string, unknown>> {
  if (dataSource.options.type === 'postgres') {
    const show = async (name: string) =>
      ((await dataSource.query(`SHOW ${name}`)) as Record<string, string>[])[0][name];
    return {
      postgres: {
        version: await show('server_version'),
        fsync: await show('fsync'),
        synchronous_commit: await show('synchronous_commit'),
        poolSize: 10,
      },
    };
  }
  const [{ journal_mode }] = await dataSource.query('PRAGMA journal_mode');
  const [{ synchronous }] = await dataSource.query('PRAGMA synchronous');
  return { sqlite: { journal_mode, synchronous: ['OFF', 'NORMAL', 'FULL', 'EXTRA'][synchronous] } };
}

/** The module's schema, created by its own migration. */
async function migrate(url: string): Promise<void> {
  const schema = await new DataSource(
    postbackDataSourceOptions({ url, sqliteSynchronous: sqliteSynchronous() }),
  ).initialize();
  await schema.destroy();
}

const CONVERSION_INSERT = `INSERT INTO postback_conversions (id, type, reference, order_id, customer_id, visitor_key, amount, currency, commission, commission_currency, tracker, click_id, attribution, occurred_at, created_at)`;
const OUTBOX_INSERT = `INSERT INTO postback_outbox (id, conversion_id, tracker, state, fields, attempts, next_attempt_at, after_postback_id, lease_owner, claim_token, last_status, last_error, delivered_at, created_at, updated_at)`;

/** The values ConversionService writes for event `n`: its conversion row and its outbox row. */
function rowValues(prefix: string, n: number): [conversion: unknown[], outbox: unknown[]] {
  const e = purchase(prefix, n);
  const now = Date.now();
  const conversionId = randomUUID();
  const fields = {
    clickId: e.clickId,
    eventType: e.type,
    conversionId,
    occurredAt: now,
    orderId: e.orderId,
    amount: e.amount,
    currency: e.currency,
    payout: '4.50',
    payoutCurrency: 'EUR',
    sub: {},
  };
  return [
    [
      conversionId,
      e.type,
      e.orderId,
      e.orderId,
      null,
      null,
      e.amount,
      e.currency,
      '4.50',
      'EUR',
      TRACKER,
      e.clickId,
      'click_id',
      now,
      now,
    ],
    [
      randomUUID(),
      conversionId,
      TRACKER,
      'pending',
      JSON.stringify(fields),
      0,
      now,
      null,
      null,
      null,
      null,
      null,
      null,
      now,
      now,
    ],
  ];
}

async function bareSqliteMode(
  file: string,
  count: number,
  warmup: number,
): Promise<Record<string, unknown>> {
  // Then better-sqlite3 alone, with the pragmas the agent's DataSource sets (TypeORM:
  // foreign_keys, WAL; the module: synchronous, exclusive locking).
  await migrate(`sqlite:${file}`);
  const db = new Database(file, { timeout: 5_000 });
  db.pragma('foreign_keys = ON');
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${sqliteSynchronous()}`);
  db.pragma('locking_mode = EXCLUSIVE');
  const placeholders = `VALUES (${Array(15).fill('?').join(', ')})`;
  const insertConversion = db.prepare(`${CONVERSION_INSERT} ${placeholders}`);
  const insertOutbox = db.prepare(`${OUTBOX_INSERT} ${placeholders}`);
  const insertBoth = db.transaction((prefix: string, n: number) => {
    const [conversion, outbox] = rowValues(prefix, n);
    insertConversion.run(...conversion);
    insertOutbox.run(...outbox);
  });
  for (let n = 0; n < warmup; n++) insertBoth('warm', n);
  const started = performance.now();
  for (let n = 0; n < count; n++) insertBoth('ord', n);
  const seconds = (performance.now() - started) / 1000;
  const sqlite = {
    journal_mode: db.pragma('journal_mode', { simple: true }),
    synchronous: ['OFF', 'NORMAL', 'FULL', 'EXTRA'][
      db.pragma('synchronous', { simple: true }) as number
    ],
  };
  db.close();
  return { perSecond: count / seconds, seconds, count, sqlite };
}

async function barePgMode(
  url: string,
  count: number,
  warmup: number,
  concurrency: number,
): Promise<Record<string, unknown>> {
  await migrate(url);
  // TypeORM's pool for PostgreSQL is pg's default pool (max 10): the same here.
  const pool = new pg.Pool({ connectionString: url });
  const placeholders = `VALUES (${Array.from({ length: 15 }, (_, i) => `$${i + 1}`).join(', ')})`;
  const conversionSql = `${CONVERSION_INSERT} ${placeholders}`;
  const outboxSql = `${OUTBOX_INSERT} ${placeholders}`;
  const insertBoth = async (prefix: string, n: number) => {
    const [conversion, outbox] = rowValues(prefix, n);
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      await client.query(conversionSql, conversion);
      await client.query(outboxSql, outbox);
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  };
  await runConcurrently(warmup, concurrency, (n) => insertBoth('warm', n));
  const started = performance.now();
  await runConcurrently(count, concurrency, (n) => insertBoth('ord', n));
  const seconds = (performance.now() - started) / 1000;
  const { rows } = await pool.query<{ n: string }>(
    "SELECT COUNT(*) AS n FROM postback_outbox WHERE state = 'pending'",
  );
  await pool.end();
  return { perSecond: count / seconds, seconds, count, concurrency, rows: Number(rows[0].n) };
}

async function main(): Promise<void> {
  const { mode = 'module', count = '20000', warmup = '2000', concurrency = '16', url } = args();
  const dir = url ? undefined : tempDir(`record-${mode}`);
  const file = `${dir?.path}/record.sqlite`;
  const database = url ?? `sqlite:${file}`;
  const [n, w, c] = [Number(count), Number(warmup), Number(concurrency)];
  try {
    let data: Record<string, unknown>;
    if (mode === 'bare') {
      data = url ? await barePgMode(url, n, w, c) : await bareSqliteMode(file, n, w);
    } else {
      const logger = mode === 'count' ? new StatementCounter() : undefined;
      data = await moduleMode(database, n, w, c, logger);
    }
    await send({ type: 'result', data });
  } finally {
    dir?.remove();
  }
  process.exit(0);
}

main().catch(fail);
