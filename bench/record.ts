/**
 * Child process, figure 3: conversions recorded per second on SQLite (WAL, the agent's
 * `synchronous` level), in-process, with no HTTP.
 *
 *   --mode=module  ConversionService.record() (validation, attribution by explicit click ID,
 *                  commission, conversion + outbox rows in one transaction), 16 callers;
 *   --mode=bare    a bare better-sqlite3 transaction inserting the same two rows (every column
 *                  of a conversion row and of an outbox row) with prepared statements;
 *   --mode=count   the module path with a TypeORM logger that counts the statements per event.
 *
 * Each mode runs `--warmup` events first, then times `--count` events.
 */
import 'reflect-metadata';

import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';

import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ScheduleModule } from '@nestjs/schedule';
import { TypeOrmModule } from '@nestjs/typeorm';
import Database from 'better-sqlite3';
import { DataSource, type Logger as TypeOrmLogger } from 'typeorm';

import { postbackDataSourceOptions } from '../src/database/data-source-options.js';
import { ConversionService, PostbackModule } from '../src/index.js';
import {
  args,
  benchTracker,
  fail,
  runConcurrently,
  send,
  tempDir,
  sqliteSynchronous,
  TRACKER,
} from './common.js';

const event = (prefix: string, n: number) => ({
  type: 'purchase',
  orderId: `${prefix}-${n}`,
  amount: '59.97',
  currency: 'EUR',
  clickId: `click-${prefix}-${n}`,
});

class CountingLogger implements TypeOrmLogger {
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
  file: string,
  count: number,
  warmup: number,
  concurrency: number,
  logger?: CountingLogger,
): Promise<Record<string, unknown>> {
  @Module({
    imports: [
      TypeOrmModule.forRoot({
        ...postbackDataSourceOptions({
          url: `sqlite:${file}`,
          sqliteSynchronous: sqliteSynchronous(),
        }),
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
  const [{ journal_mode }] = await dataSource.query('PRAGMA journal_mode');
  const [{ synchronous }] = await dataSource.query('PRAGMA synchronous');

  await runConcurrently(warmup, concurrency, (n) => conversions.record(event('warm', n)));
  if (logger) {
    logger.total = 0;
    logger.counts.clear();
  }
  const started = performance.now();
  let queued = 0;
  await runConcurrently(count, concurrency, async (n) => {
    const result = await conversions.record(event('ord', n));
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
    sqlite: { journal_mode, synchronous: ['OFF', 'NORMAL', 'FULL', 'EXTRA'][synchronous] },
    ...(logger && {
      statementsPerEvent: logger.total / count,
      statements: Object.fromEntries(
        [...logger.counts].map(([shape, n]) => [shape, +(n / count).toFixed(2)]),
      ),
    }),
  };
}

async function bareMode(
  file: string,
  count: number,
  warmup: number,
): Promise<Record<string, unknown>> {
  // The module's schema, created by its own migration; then better-sqlite3 alone, with the
  // pragmas the agent's DataSource sets (TypeORM: foreign_keys, WAL; the module: synchronous
  // FULL, exclusive locking).
  const schema = await new DataSource(
    postbackDataSourceOptions({ url: `sqlite:${file}`, sqliteSynchronous: sqliteSynchronous() }),
  ).initialize();
  await schema.destroy();
  const db = new Database(file, { timeout: 5_000 });
  db.pragma('foreign_keys = ON');
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${sqliteSynchronous()}`);
  db.pragma('locking_mode = EXCLUSIVE');
  const insertConversion = db.prepare(
    `INSERT INTO postback_conversions (id, type, reference, order_id, customer_id, visitor_key, amount, currency, commission, commission_currency, tracker, click_id, attribution, occurred_at, created_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const insertOutbox = db.prepare(
    `INSERT INTO postback_outbox (id, conversion_id, tracker, state, fields, attempts, next_attempt_at, after_postback_id, lease_owner, claim_token, last_status, last_error, delivered_at, created_at, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const insertBoth = db.transaction((prefix: string, n: number) => {
    const e = event(prefix, n);
    const now = Date.now();
    const conversionId = randomUUID();
    insertConversion.run(
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
    );
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
    insertOutbox.run(
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
    );
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

async function main(): Promise<void> {
  const { mode = 'module', count = '20000', warmup = '2000', concurrency = '16' } = args();
  const dir = tempDir(`record-${mode}`);
  const file = `${dir.path}/record.sqlite`;
  try {
    const data =
      mode === 'bare'
        ? await bareMode(file, Number(count), Number(warmup))
        : await moduleMode(
            file,
            Number(count),
            Number(warmup),
            Number(concurrency),
            mode === 'count' ? new CountingLogger() : undefined,
          );
    await send({ type: 'result', data });
  } finally {
    dir.remove();
  }
  process.exit(0);
}

main().catch(fail);
