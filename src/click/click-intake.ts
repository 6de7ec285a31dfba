import type { PostbackDatabase } from '../database/postback-database.js';
import type { Click } from './click.entity.js';
import { storeClick } from './click-store.js';

/**
 * Stores validated clicks forwarded through the agent's API now, or throws
 * DatabaseUnavailableError at once (the agent answers 503, the caller sends them again): not
 * buffered, as a 202 for a click held only in memory could be lost with no session to fall
 * back on; not waited for, as the caller may be serving the landing. Resending clicks stored
 * before the refused one only refreshes their rows.
 */
export async function takeClicks(db: PostbackDatabase, rows: Click[]): Promise<Click[]> {
  const stored: Click[] = [];
  for (const row of rows) stored.push(await storeClick(db, row, { waitForLock: false }));
  return stored;
}
