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
 * refused for their values; throws, writing nothing, when the database itself failed.
 * A refused value fails the whole multi-row statement forever, so such a batch is written
 * again row by row behind savepoints: the good rows commit, the refused ones are returned.
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
