import type { PostbackDatabase } from '../database/postback-database.js';

/**
 * The database's part of `/health`: "up" while writes go through, "failing" (with the reason
 * and since when) from a write refused for an outage until a write succeeds again. Reads
 * alone cannot tell: on a full disk they go on working while every event is refused.
 */
export function databaseHealth(
  db: PostbackDatabase,
):
  | { ok: true; database: 'up' }
  | { ok: false; database: 'failing'; reason: string; since: string; retryAfterSeconds: number } {
  const failure = db.writeHealth.failure;
  if (!failure) return { ok: true, database: 'up' };
  return {
    ok: false,
    database: 'failing',
    reason: failure.reason,
    since: new Date(failure.since).toISOString(),
    retryAfterSeconds: failure.retryAfterSeconds,
  };
}
