import { DatabaseUnavailableError } from '../database/database-unavailable.error.js';
import type { PostbackDatabase } from '../database/postback-database.js';
import type { Click } from './click.entity.js';
import { storeClick } from './click-store.js';
import type { ClickWriteBuffer } from './click-write-buffer.js';

export interface TakenClicks {
  /** Written now, as stored (a repeated landing: the row it refreshed). */
  stored: Click[];
  /** Held by the capture buffer, written as soon as the database takes them. */
  queued: Click[];
}

/**
 * Takes validated clicks forwarded through the agent's API. Each is written at once, so the
 * caller's next event, on any instance, finds it; when the database cannot take a write now
 * (another process holds SQLite's write lock, a failing commit, a lost server), the clicks
 * left go to the capture buffer, which retries them as it does the middleware's, instead of
 * failing the request and losing them. Once the buffer holds clicks, new ones join them there,
 * so no older landing is written over a newer one. Throws DatabaseUnavailableError when the
 * buffer cannot take them either (its bound, or shutdown): nothing was kept, the caller
 * sends them again.
 */
export async function takeClicks(
  db: PostbackDatabase,
  buffer: ClickWriteBuffer,
  rows: Click[],
): Promise<TakenClicks> {
  const stored: Click[] = [];
  for (let i = 0; i < rows.length; i++) {
    if (buffer.pending === 0) {
      try {
        stored.push(await storeClick(db, rows[i], { waitForLock: false }));
        continue;
      } catch (error) {
        // Only "cannot write now" is worth a later try: a refused value or a broken schema
        // would fail again in the buffer, after the caller was told the click was kept.
        if (!(error instanceof DatabaseUnavailableError)) throw error;
        return { stored, queued: queue(buffer, rows.slice(i), error) };
      }
    }
    return { stored, queued: queue(buffer, rows.slice(i)) };
  }
  return { stored, queued: [] };
}

function queue(buffer: ClickWriteBuffer, rows: Click[], cause?: unknown): Click[] {
  if (buffer.offer(rows)) return rows;
  throw new DatabaseUnavailableError(
    `${buffer.pending} clicks are waiting for the database already`,
    cause instanceof DatabaseUnavailableError ? cause.retryAfterSeconds : 5,
    { cause },
  );
}
