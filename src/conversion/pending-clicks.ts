import type { ClickService } from '../click/click.service.js';
import type { PostbackDatabase } from '../database/postback-database.js';

/**
 * Stores the clicks the capture buffer still holds, so attribution, which reads stored clicks,
 * sees a landing of a moment ago. Returns the event's one deadline for waiting out another
 * process's SQLite write lock: this flush and the event's transaction share it, so an event
 * waits the documented bound in all, not once per step (the buffer's write may itself be
 * waiting out the lock, and would then take up to the bound again).
 */
export async function storePendingClicks(
  db: PostbackDatabase,
  clicks: ClickService,
): Promise<number | undefined> {
  const lockDeadline = db.lockDeadline();
  await db.withinLockDeadline(clicks.flushPending(), lockDeadline);
  return lockDeadline;
}
