import type { EntityManager } from 'typeorm';

import { isRefusedValue, type PostbackDatabase } from '../database/postback-database.js';
import { safeErrorText } from '../database/safe-error-text.js';
import type { Click } from './click.entity.js';
import { clickUpsertStatements, upsertClicks } from './click-upsert.js';

export interface RefusedClick {
  row: Click;
  reason: string;
}

/**
 * Writes a batch of clicks (distinct keys) in one transaction. Returns the rows the database
 * refused for their values; throws when the database itself failed, and then nothing of the
 * batch is written.
 *
 * A refused value fails the whole multi-row statement, and retrying would fail it forever,
 * holding back every click behind it. So a batch refused for its values is written again row
 * by row, each behind a savepoint: the good rows commit together, the refused ones are
 * returned. A row failing for any other reason (a lost connection, a full disk) fails the
 * batch instead, to be retried whole.
 */
export async function writeClickBatch(
  db: PostbackDatabase,
  rows: Click[],
): Promise<RefusedClick[]> {
  try {
    if (db.offThread) {
      // SQLite's writer thread: the batch and its fsync off the event loop serving landings.
      await db.writeOffThread(clickUpsertStatements(db.dataSource, rows));
    } else {
      await db.transaction((manager) => upsertClicks(manager, rows));
    }
    return [];
  } catch (error) {
    if (!isRefusedValue(error)) throw error;
  }
  return db.transaction(async (manager) => {
    const refused: RefusedClick[] = [];
    for (const row of rows) {
      const problem = await writeAlone(manager, row);
      if (problem) refused.push({ row, reason: problem });
    }
    return refused;
  });
}

async function writeAlone(manager: EntityManager, row: Click): Promise<string | undefined> {
  await manager.query('SAVEPOINT postback_click');
  try {
    await upsertClicks(manager, [row]);
  } catch (error) {
    if (!isRefusedValue(error)) throw error;
    await manager.query('ROLLBACK TO SAVEPOINT postback_click');
    await manager.query('RELEASE SAVEPOINT postback_click');
    return safeErrorText(error);
  }
  await manager.query('RELEASE SAVEPOINT postback_click');
  return undefined;
}
