/**
 * Child process, figure 5: the outbox claim query on SQLite with 1,000,000 delivered rows
 * retained, against the same query on an empty table.
 *
 * The SQL is not copied by hand: it is built by the same function as OutboxStore's claims
 * (state = 'pending' AND next_attempt_at <= :now AND the reversal's NOT EXISTS clause, ORDER
 * BY next_attempt_at, LIMIT 50; no lock on SQLite), then run through better-sqlite3
 * directly, so what is timed is SQLite, not the driver around it.
 * The delivered rows are seeded with multi-row INSERTs in one transaction.
 */
import 'reflect-metadata';

import { performance } from 'node:perf_hooks';

import Database from 'better-sqlite3';
import { DataSource } from 'typeorm';

import { postbackDataSourceOptions } from '../src/database/data-source-options.js';
import { compile } from '../src/database/raw-sql.js';
import { dialectOf } from '../src/database/dialect/dialect-of.js';
import { DUE_COLUMNS, dueSelectSql } from '../src/outbox/outbox.sql.js';
import { args, fail, percentile, send, tempDir, TRACKER } from './common.js';

const BATCH = 50;
const COLUMNS = [
  'id',
  'conversion_id',
  'tracker',
  'state',
  'fields',
  'attempts',
  'next_attempt_at',
  'after_postback_id',
  'lease_owner',
  'claim_token',
  'last_status',
  'last_error',
  'delivered_at',
  'created_at',
  'updated_at',
];

/**
 * The claim SELECT of pending rows exactly as OutboxStore's claims issue it on SQLite (no
 * skipped trackers, no floor): the text its one-statement claim selects the due ids with. The
 * sweep for expired leases runs the same text on another state, once a second.
 */
function claimSql(dataSource: DataSource, now: number): [string, unknown[]] {
  const parameters: Record<string, unknown> = {};
  const text = dueSelectSql(
    dialectOf(dataSource),
    'postback_outbox',
    { state: 'pending', now, limit: BATCH },
    DUE_COLUMNS,
    parameters,
  );
  const { sql, names } = compile(dataSource, text);
  return [sql, names.map((name) => parameters[name])];
}

const uuid = (prefix: string, n: number) =>
  `${prefix}-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;

function row(n: number, state: string, at: number): unknown[] {
  const delivered = state === 'delivered';
  const conversionId = uuid(delivered ? 'c0000000' : 'b0000000', n);
  const fields = JSON.stringify({
    clickId: `click-${n}`,
    eventType: 'purchase',
    conversionId,
    occurredAt: at,
    orderId: `order-${n}`,
    amount: '59.97',
    currency: 'EUR',
    payout: '4.50',
    payoutCurrency: 'EUR',
    sub: {},
  });
  return [
    uuid(delivered ? 'd0000000' : 'a0000000', n),
    conversionId,
    TRACKER,
    state,
    fields,
    delivered ? 1 : 0,
    delivered ? at + 120_000 : at,
    null,
    null,
    null,
    delivered ? 200 : null,
    null,
    delivered ? at + 50 : null,
    at,
    at + 50,
  ];
}

function insertRows(db: Database.Database, count: number, make: (n: number) => unknown[]): void {
  const PER_STATEMENT = 500;
  const values = `(${COLUMNS.map(() => '?').join(',')})`;
  const sql = (rows: number) =>
    `INSERT INTO postback_outbox (${COLUMNS.join(',')}) VALUES ${Array(rows).fill(values).join(',')}`;
  const full = db.prepare(sql(PER_STATEMENT));
  db.transaction(() => {
    for (let start = 0; start < count; start += PER_STATEMENT) {
      const rows = Math.min(PER_STATEMENT, count - start);
      const params: unknown[] = [];
      for (let n = start; n < start + rows; n++) params.push(...make(n));
      (rows === PER_STATEMENT ? full : db.prepare(sql(rows))).run(...params);
    }
  })();
}

function time(
  statement: Database.Statement,
  params: unknown[],
  iterations: number,
  budgetMs: number,
): Record<string, number> {
  for (let i = 0; i < Math.min(200, iterations); i++) statement.all(...params);
  const samples: number[] = [];
  const until = performance.now() + budgetMs;
  let rows = 0;
  for (let i = 0; i < iterations && performance.now() < until; i++) {
    const t = performance.now();
    rows = statement.all(...params).length;
    samples.push(performance.now() - t);
  }
  samples.sort((a, b) => a - b);
  return {
    samples: samples.length,
    rowsReturned: rows,
    p50Ms: percentile(samples, 50),
    p95Ms: percentile(samples, 95),
    p99Ms: percentile(samples, 99),
    maxMs: samples[samples.length - 1],
  };
}

async function main(): Promise<void> {
  const { delivered = '1000000', due = '200', iterations = '2000', budget = '5000' } = args();
  const dir = tempDir('claim');
  const file = `${dir.path}/claim.sqlite`;
  const dataSource = await new DataSource(
    postbackDataSourceOptions({ url: `sqlite:${file}` }),
  ).initialize(); // the module's migration creates the table and its indexes
  const now = Date.now();
  const [sql, params] = claimSql(dataSource, now);
  await dataSource.destroy();

  let db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = OFF'); // seeding only; reads do not depend on it
  db.pragma('cache_size = -262144');
  const measure = () => time(db.prepare(sql), params, Number(iterations), Number(budget));
  const plan = () =>
    (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as { detail: string }[]).map(
      (r) => r.detail,
    );

  const empty = measure();
  const emptyPlan = plan();
  const dueRows = Number(due);
  insertRows(db, dueRows, (n) => row(n, 'pending', now - 60_000 + n));
  const emptyWithDue = measure();

  const seeding = performance.now();
  const DAY = 86_400_000;
  const total = Number(delivered);
  // Delivered over the last 30 days, oldest first.
  insertRows(db, total, (n) =>
    row(n, 'delivered', now - 30 * DAY + Math.floor((n * 30 * DAY) / total)),
  );
  db.pragma('wal_checkpoint(TRUNCATE)');
  const seedSeconds = (performance.now() - seeding) / 1000;
  // Measured on a fresh connection with SQLite's default cache, as the agent opens it.
  db.close();
  db = new Database(file);
  const retainedWithDue = measure();
  const retainedWithDuePlan = plan();
  db.prepare("DELETE FROM postback_outbox WHERE state = 'pending'").run();
  const retained = measure();
  const retainedPlan = plan();
  const { n: rows } = db.prepare('SELECT COUNT(*) AS n FROM postback_outbox').get() as {
    n: number;
  };
  db.close();
  dir.remove();
  await send({
    type: 'result',
    data: {
      sql,
      delivered: total,
      rowsInTable: rows,
      dueRows,
      seedSeconds,
      empty,
      emptyWithDue,
      retained,
      retainedWithDue,
      plans: { empty: emptyPlan, retained: retainedPlan, retainedWithDue: retainedWithDuePlan },
    },
  });
  process.exit(0);
}

main().catch(fail);
