import type { AttemptRecord, ClaimedPostback, OutboxStore } from '../../src/outbox/outbox.store.js';
import type { Postback } from '../../src/outbox/postback.entity.js';

/** The store's parts a test reaches for (private: production code never claims this way). */
interface StoreInternals {
  db: OutboxStore['db'];
  rows: OutboxStore['rows'];
}

/**
 * Claims up to `limit` due rows in a transaction of their own, sweeping always: expired
 * leases first (they have waited longest), then pending rows whose time has come, leaving out
 * the trackers named in `skipTrackers`. What the flusher's exchanges do, without a round.
 */
export function claimDue(
  store: OutboxStore,
  limit: number,
  skipTrackers: string[] = [],
): Promise<ClaimedPostback[]> {
  const { db, rows } = store as unknown as StoreInternals;
  return db.transaction((manager) => rows.claim(manager, limit, skipTrackers, true));
}

/**
 * Records an attempt and the row's new state in one transaction. Returns false when the
 * claim was lost (see `OutboxStore.exchange`).
 */
export async function settle(
  store: OutboxStore,
  row: ClaimedPostback,
  attempt: AttemptRecord,
  change: Partial<Postback>,
): Promise<boolean> {
  const { lost } = await store.exchange([{ row, attempt, change }]);
  return lost.length === 0;
}
