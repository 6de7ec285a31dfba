import { Inject, Injectable, Logger } from '@nestjs/common';
import { type EntityManager, In, LessThan } from 'typeorm';

import type { Clock } from '../common/clock.js';
import { PostbackDatabase } from '../database/postback-database.js';
import { POSTBACK_CLOCK } from '../postback.constants.js';
import { DeliveryAttempt } from './delivery-attempt.entity.js';
import { OutboxFlusher } from './outbox.flusher.js';
import { Postback, type PostbackState } from './postback.entity.js';

/** Which postbacks an operation applies to: explicit IDs, or every row matching the filter. */
export interface OutboxSelection {
  ids?: string[];
  tracker?: string;
}

const REPLAYABLE: PostbackState[] = ['dead', 'cancelled'];
const CANCELLABLE: PostbackState[] = ['pending', 'dead'];
export const DEFAULT_PURGE_BATCH = 1_000;

/**
 * Operators' hands on the outbox: replay dead letters (with their event ID, so a tracker that
 * saw an earlier attempt dedupes it), cancel what must not be sent, purge old delivered rows.
 * A row in flight is never touched: its worker holds the claim.
 *
 * @publicApi
 */
@Injectable()
export class OutboxAdminService {
  private readonly logger = new Logger('PostbackOutboxAdmin');

  constructor(
    private readonly db: PostbackDatabase,
    private readonly flusher: OutboxFlusher,
    @Inject(POSTBACK_CLOCK) private readonly clock: Clock,
  ) {}

  /**
   * Makes dead (or cancelled) postbacks due now with a fresh attempt budget; their attempt
   * history stays. Returns how many were replayed.
   */
  async replay(selection: OutboxSelection & { state?: 'dead' | 'cancelled' }): Promise<number> {
    const now = this.clock.now();
    const states = selection.state ? [selection.state] : REPLAYABLE;
    const count = await this.db.run((manager) =>
      this.update(manager, selection, states, {
        state: 'pending',
        attempts: 0,
        nextAttemptAt: now,
        updatedAt: now,
      }),
    );
    this.logger.log(`Replayed ${count} postback(s)`);
    if (count > 0) this.flusher.nudge();
    return count;
  }

  /** Cancels pending or dead postbacks; they stay listed, as cancelled, and can be replayed. */
  async cancel(selection: OutboxSelection): Promise<number> {
    const now = this.clock.now();
    const count = await this.db.run((manager) =>
      this.update(manager, selection, CANCELLABLE, {
        state: 'cancelled',
        lastError: 'cancelled by an operator',
        updatedAt: now,
      }),
    );
    this.logger.log(`Cancelled ${count} postback(s)`);
    return count;
  }

  /**
   * Deletes delivered postbacks (and their attempts) delivered before `olderThanMs` ago, in
   * batches, each its own short transaction so producers are never held up for long.
   * Conversions are kept. Returns how many postbacks were deleted.
   */
  async purgeDelivered(olderThanMs: number, batchSize = DEFAULT_PURGE_BATCH): Promise<number> {
    const cutoff = this.clock.now() - olderThanMs;
    let total = 0;
    for (;;) {
      const deleted = await this.db.transaction(async (manager) => {
        const rows = await manager.find(Postback, {
          select: { id: true },
          where: { state: 'delivered', deliveredAt: LessThan(cutoff) },
          take: batchSize,
        });
        if (rows.length === 0) return 0;
        const ids = rows.map((r) => r.id);
        await manager.delete(DeliveryAttempt, { postbackId: In(ids) });
        await manager.delete(Postback, { id: In(ids) });
        return ids.length;
      });
      total += deleted;
      if (deleted < batchSize) break;
    }
    this.logger.log(`Purged ${total} delivered postback(s)`);
    return total;
  }

  private async update(
    manager: EntityManager,
    selection: OutboxSelection,
    states: PostbackState[],
    change: Partial<Postback>,
  ): Promise<number> {
    const query = manager
      .createQueryBuilder()
      .update(Postback)
      .set(change)
      .where('state IN (:...states)', { states });
    if (selection.ids) {
      if (selection.ids.length === 0) return 0;
      query.andWhere('id IN (:...ids)', { ids: selection.ids });
    }
    if (selection.tracker) query.andWhere('tracker = :tracker', { tracker: selection.tracker });
    const result = await query.execute();
    return result.affected ?? 0;
  }
}
