/**
 * Child process, figure 5: the outbox claim query on SQLite with 1,000,000 delivered rows
 * retained, against the same query on an empty table.
 *
 * The SQL is not copied by hand: it is built by the same function as OutboxStore's claims
 * (state = 'pending' AND next_attempt_at <= :now AND the reversal's NOT EXISTS clause, ORDER
 * BY next_attempt_at, LIMIT 50; no lock on SQLite), then run through better-sqlite3
 * directly, so what is timed is SQLite, not the driver around it.
 * The rows are the shared seed's purchases (test/utils/seed-outbox.ts), outbox rows only,
 * written with multi-row INSERTs in one transaction (bench/lib/bulk-insert.ts).
 */
import 'reflect-metadata';

import { performance } from 'node:perf_hooks';

import Database from 'better-sqlite3';
import { DataSource } from 'typeorm';

import { postbackDataSourceOptions } from '../../src/postback.data-source.js';
import { compile } from '../../src/database/raw-sql.js';
import { dialectOf } from '../../src/database/dialect/dialect-of.js';
import { DUE_COLUMNS, dueSelectSql } from '../../src/outbox/outbox.sql.js';
import { Postback } from '../../src/outbox/postback.entity.js';
import { pendingPurchase } from '../../test/utils/seed-outbox.js';
import { bulkInserter, columnsOf, inStatements } from '../lib/bulk-insert.js';
import { percentile } from '../lib/stats.js';
import { tempDir } from '../lib/temp-dir.js';
import { TRACKER } from '../lib/tracker.js';
import { args, fail, send } from './child.js';

const BATCH = 50;
const DAY = 86_400_000;
/** The orders behind the rows: purchases of 59.97 EUR with a 4.50 EUR payout. */
const ORDERS = { tracker: TRACKER, amount: '59.97', commission: '4.50' };

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

/** `count` outbox rows (no conversions: the claim reads the outbox alone), in one transaction. */
function insertRows(
  db: Database.Database,
  columns: ReturnType<typeof columnsOf<Postback>>,
  count: number,
  make: (n: number) => Postback,
): void {
  const insert = bulkInserter(db, columns);
  db.transaction(() =>
    inStatements(count, (from, to) =>
      insert(Array.from({ length: to - from }, (_, i) => make(from + i))),
    ),
  )();
}

/** Ascending UUIDs (`prefix` tells pending from delivered rows): see `idsOf`. */
const uuid = (prefix: string, n: number) =>
  `${prefix}-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;

/** Pending row `n` of `count`, due since it was created a minute ago. */
function pendingRow(now: number, count: number): (n: number) => Postback {
  const orders = {
    ...ORDERS,
    count,
    now,
    createdAtOf: (n: number) => now - 60_000 + n,
    idsOf: (n: number) => ({ conversion: uuid('b0000000', n), postback: uuid('a0000000', n) }),
  };
  return (n) => pendingPurchase(n, orders).postback;
}

/** Delivered row `n` of `count`: created over the last 30 days, oldest first, delivered 50 ms later. */
function deliveredRow(now: number, count: number): (n: number) => Postback {
  const createdAtOf = (n: number) => now - 30 * DAY + Math.floor((n * 30 * DAY) / count);
  const idsOf = (n: number) => ({ conversion: uuid('c0000000', n), postback: uuid('d0000000', n) });
  const orders = { ...ORDERS, count, now, createdAtOf, idsOf };
  return (n) => {
    const { postback } = pendingPurchase(n, orders);
    const at = postback.createdAt;
    postback.state = 'delivered';
    postback.attempts = 1;
    postback.nextAttemptAt = at + 120_000;
    postback.lastStatus = 200;
    postback.deliveredAt = at + 50;
    postback.updatedAt = at + 50;
    return postback;
  };
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
  const columns = columnsOf(dataSource, Postback);
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
  insertRows(db, columns, dueRows, pendingRow(now, dueRows));
  const emptyWithDue = measure();

  const seeding = performance.now();
  const total = Number(delivered);
  insertRows(db, columns, total, deliveredRow(now, total));
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
