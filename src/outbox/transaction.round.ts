import type { PostbackDatabase } from '../database/postback-database.js';
import type { ExchangeResult } from './exchange-round.js';
import type { Settlement } from './claimed-postback.js';
import type { OutboxRepository } from './outbox.repository.js';
import { markSendingIn, type SendingMarks } from './send-marks.js';

/**
 * An exchange is correct under any isolation level: it writes only rows it locks (its own
 * claims, checked by token, and rows it selects FOR UPDATE), and under REPEATABLE READ or
 * SERIALIZABLE a row another worker changed since the snapshot fails its lock with a
 * serialization failure, upon which the exchange runs again. On PostgreSQL that spares the
 * `SET TRANSACTION` round trip (see `PostbackDatabase.transaction`).
 */
const EXCHANGE_ISOLATION = { anyIsolation: true };

/**
 * A round as a plain transaction, statement by statement: every round on MySQL/MariaDB and
 * SQLite without a writer thread, and elsewhere every round but the steady ones (a sweep, a
 * retry or dead letter among the settlements).
 */
export class TransactionRound {
  constructor(
    private readonly db: PostbackDatabase,
    private readonly rows: OutboxRepository,
  ) {}

  run(
    finished: Settlement[],
    claim: { limit: number; skipTrackers?: string[] } | undefined,
    marking: SendingMarks | undefined,
  ): Promise<ExchangeResult> {
    return this.db.transaction(async (manager) => {
      const lost = await this.rows.settle(manager, finished);
      if (marking) await markSendingIn(manager, marking.rows, marking.at);
      const claimed =
        claim && claim.limit > 0
          ? await this.rows.claim(manager, claim.limit, claim.skipTrackers ?? [], false)
          : [];
      return { claimed, lost };
    }, EXCHANGE_ISOLATION);
  }
}
