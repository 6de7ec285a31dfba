/**
 * Child process: creates the module's schema on `--url` (its own migration) and writes
 * `--count` pending purchases with their outbox rows (test/utils/seed-outbox.ts), for the
 * tracker of bench/lib/tracker.ts with a 0.75 EUR payout.
 *
 *   --how=typeorm  through TypeORM, 500 a transaction (any engine; tens of thousands);
 *   --how=raw      SQLite only, for a million: the same entity objects turned into column values
 *                  by TypeORM's own metadata (transformers included), written with better-sqlite3
 *                  multi-row prepared INSERTs, 100,000 orders a transaction, synchronous OFF
 *                  (the seeding connection only; the agent opens the file with its own level).
 *   --due-in=<ms>  every row falls due that long from now (default: each when it was created,
 *                  all due at once, oldest first). Lets the orchestrator start agents on an
 *                  outbox that is not due yet, then make it due at one instant.
 */
import 'reflect-metadata';

import { performance } from 'node:perf_hooks';

import Database from 'better-sqlite3';
import { DataSource } from 'typeorm';

import { Conversion } from '../../src/conversion/conversion.entity.js';
import { postbackDataSourceOptions } from '../../src/postback.data-source.js';
import { Postback } from '../../src/outbox/postback.entity.js';
import {
  pendingPurchase,
  type PendingPurchaseOptions,
  seedPendingPostbacks,
} from '../../test/utils/seed-outbox.js';
import { bulkInserter, columnsOf, inStatements } from '../lib/bulk-insert.js';
import { TRACKER } from '../lib/tracker.js';
import { args, fail, send } from './child.js';

const PER_TRANSACTION = 100_000;

function rawSeed(dataSource: DataSource, file: string, batch: PendingPurchaseOptions): void {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = OFF');
  db.pragma('cache_size = -262144');
  const conversions = bulkInserter(db, columnsOf(dataSource, Conversion));
  const postbacks = bulkInserter(db, columnsOf(dataSource, Postback));
  const options = { ...batch, now: batch.now ?? Date.now() };
  const writeChunk = db.transaction((from: number, to: number) => {
    inStatements(to - from, (start, end) => {
      const orders = Array.from({ length: end - start }, (_, i) =>
        pendingPurchase(from + start + i, options),
      );
      conversions(orders.map((o) => o.conversion));
      postbacks(orders.map((o) => o.postback));
    });
  });
  for (let from = 0; from < batch.count; from += PER_TRANSACTION) {
    writeChunk(from, Math.min(batch.count, from + PER_TRANSACTION));
  }
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
}

async function main(): Promise<void> {
  const { url, count = '20000', how = 'typeorm', 'due-in': dueIn } = args();
  if (!url) throw new Error('--url=<database url> is required');
  const now = Date.now();
  const batch: PendingPurchaseOptions = {
    tracker: TRACKER,
    prefix: 'order-',
    commission: '0.75',
    count: Number(count),
    now,
    ...(dueIn !== undefined && { dueAt: now + Number(dueIn) }),
  };
  const started = performance.now();
  const dataSource = await new DataSource(postbackDataSourceOptions({ url })).initialize();
  if (how === 'raw') {
    if (dataSource.options.type !== 'better-sqlite3') throw new Error('--how=raw is for SQLite');
    // The migrated schema is all the raw writer needs from TypeORM (and the metadata).
    await dataSource.destroy();
    rawSeed(dataSource, String(dataSource.options.database), batch);
  } else {
    await seedPendingPostbacks(dataSource, batch);
    await dataSource.destroy();
  }
  await send({
    type: 'result',
    data: { count: batch.count, how, seconds: (performance.now() - started) / 1000 },
  });
  process.exit(0);
}

main().catch(fail);
