import type { PostbackDatabase } from '../database/postback-database.js';
import type { Click } from './click.entity.js';
import { storeClick } from './click-store.js';

/**
 * Stores validated clicks forwarded through the agent's API now, or answers that it cannot.
 * When the database cannot take a write now (another process holds SQLite's write lock, a
 * failing commit, a lost server), it throws DatabaseUnavailableError at once, and the agent
 * answers 503 with Retry-After: the caller still holds the clicks and sends them again.
 * Not kept in memory instead: a 202 for a click held only here would be a promise that a
 * kill -9 or a lock outlasting shutdown breaks, with no session to fall back on. Not waited
 * for either: the caller may be serving its visitor's landing meanwhile. Clicks before the
 * refused one may be stored already; sending them again only refreshes their rows.
 */
export async function takeClicks(db: PostbackDatabase, rows: Click[]): Promise<Click[]> {
  const stored: Click[] = [];
  for (const row of rows) stored.push(await storeClick(db, row, { waitForLock: false }));
  return stored;
}
