import type { PostbackDatabase } from '../database/postback-database.js';
import { Click } from './click.entity.js';
import { upsertClicks } from './click-upsert.js';

/**
 * Writes one validated click row now (a repeated landing only refreshes the stored row) and
 * reads the stored row back. With `waitForLock: false`, a SQLite file locked by another
 * process fails it at once with DatabaseUnavailableError instead of waiting.
 */
export function storeClick(
  db: PostbackDatabase,
  row: Click,
  options: { waitForLock?: boolean } = {},
): Promise<Click> {
  return db.run(async (manager) => {
    await upsertClicks(manager, [row]);
    return manager.findOneByOrFail(Click, {
      tracker: row.tracker,
      clickId: row.clickId,
      visitorKey: row.visitorKey,
    });
  }, options);
}
