import { Inject, Injectable, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';

import { type EntityManager, In, LessThan } from 'typeorm';

import type { Clock } from '../common/clock.js';
import { PostbackDatabase } from '../database/postback-database.js';
import { Conversion } from '../conversion/conversion.entity.js';
import { InvalidInputError } from '../errors/invalid-input.error.js';
import { POSTBACK_CLOCK, POSTBACK_RESOLVED_OPTIONS } from '../postback.constants.js';
import { sampleFields } from '../postback/postback-sample.js';
import type { ResolvedPostbackOptions } from '../options/resolved-options.js';
import { DeliveryAttempt } from './delivery-attempt.entity.js';
import { OutboxFlusher } from './outbox.flusher.js';
import { pendingPostback } from './pending-postback.js';
import { Postback, type PostbackState } from './postback.entity.js';
import { NOT_A_TRACKER } from '../errors/messages.js';

/** Which postbacks an operation applies to: explicit IDs, or every row matching the filter. */
export interface OutboxSelection {
  ids?: string[];
  tracker?: string;
}

const REPLAYABLE: PostbackState[] = ['dead', 'cancelled'];
const CANCELLABLE: PostbackState[] = ['pending', 'dead'];
export const DEFAULT_PURGE_BATCH = 1_000;
/** IDs per statement: far below every engine's limit on bound parameters. */
const ID_BATCH = 500;

/** `each` over `ids` in slices of ID_BATCH, one after the other; their results in order. */
async function inIdBatches<T>(ids: string[], each: (batch: string[]) => Promise<T>): Promise<T[]> {
  const results: T[] = [];
  for (let i = 0; i < ids.length; i += ID_BATCH)
    results.push(await each(ids.slice(i, i + ID_BATCH)));
  return results;
}

const sum = (counts: number[]): number => counts.reduce((total, n) => total + n, 0);

/**
 * Operators' hands on the outbox: replay dead letters (with their event ID, so a tracker that
 * saw an earlier attempt dedupes it), cancel what must not be sent, purge old delivered rows.
 * A row in flight is never touched: its worker holds the claim.
 *
 * @publicApi
 */
@Injectable()
export class OutboxAdminService {
  private readonly logger = new Logger(OutboxAdminService.name);

  constructor(
    private readonly db: PostbackDatabase,
    private readonly flusher: OutboxFlusher,
    @Inject(POSTBACK_CLOCK) private readonly clock: Clock,
    @Inject(POSTBACK_RESOLVED_OPTIONS) private readonly options: ResolvedPostbackOptions,
  ) {}

  /**
   * Queues a test postback to a tracker: the sample conversion `GET /v1/trackers/:name/sample`
   * shows (a purchase, click TEST-CLICK-1, customer TEST-CUSTOMER-1, in the currency the
   * tracker reads) with a unique order ID, sent and recorded like any other, so a merchant sees
   * the network's answer before going live. Its conversion is of type "test" (never refunded
   * nor counted); the postback is the sample's event, so every preset renders a request its
   * network accepts. Returns the conversion and postback IDs to read it back.
   */
  async sendTest(trackerName: string): Promise<{ conversionId: string; postbackId: string }> {
    const tracker = this.options.trackers.get(trackerName);
    if (!tracker) {
      throw new InvalidInputError({ tracker: [NOT_A_TRACKER(trackerName)] });
    }
    const now = this.clock.now();
    const conversionId = randomUUID();
    const orderId = `TEST-${now}-${conversionId.slice(0, 8)}`;
    const fields = sampleFields(tracker, { conversionId, orderId, occurredAt: now });
    const postbackId = await this.db.transaction(async (manager) => {
      await manager.insert(Conversion, {
        id: conversionId,
        type: 'test',
        reference: orderId,
        orderId,
        customerId: fields.customerId ?? null,
        visitorKey: null,
        amount: fields.amount ?? null,
        currency: fields.currency ?? null,
        commission: fields.payout ?? null,
        commissionCurrency: fields.payoutCurrency ?? null,
        tracker: trackerName,
        clickId: fields.clickId,
        attribution: 'click_id',
        occurredAt: now,
        createdAt: now,
      });
      const postback = pendingPostback(conversionId, trackerName, fields, now);
      await manager.insert(Postback, postback);
      return postback.id;
    });
    this.logger.log(`Queued a test postback to "${trackerName}"`);
    this.flusher.nudge();
    return { conversionId, postbackId };
  }

  /**
   * Makes dead (or cancelled) postbacks due now with a fresh attempt budget; their attempt
   * history stays. (One past its max age, counted from the conversion, gets one attempt.) The dead reversals of the postbacks replayed come along: a refund's postback
   * is dead-lettered when its original was (there was nothing to reverse), and once the original
   * goes out again, so must its reversal. It waits, as ever, until the original is delivered, and
   * is dead-lettered again if the original is. Returns how many were replayed, those included.
   */
  async replay(selection: OutboxSelection & { state?: 'dead' | 'cancelled' }): Promise<number> {
    const now = this.clock.now();
    const states = selection.state ? [selection.state] : REPLAYABLE;
    const change: Partial<Postback> = {
      state: 'pending',
      attempts: 0,
      nextAttemptAt: now,
      updatedAt: now,
    };
    const { count, reversals } = await this.db.transaction(async (manager) => {
      const originals = await this.selected(manager, selection, states);
      const replayed = await this.update(manager, { ids: originals }, states, change);
      const reversalsReplayed = sum(
        await inIdBatches(originals, async (ids) => {
          const result = await manager.update(
            Postback,
            { state: 'dead', afterPostbackId: In(ids) },
            change,
          );
          return result.affected ?? 0;
        }),
      );
      return { count: replayed + reversalsReplayed, reversals: reversalsReplayed };
    });
    this.logger.log(
      `Replayed ${count} postback(s)${reversals > 0 ? `, ${reversals} of them reversals of the others` : ''}`,
    );
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

  /** The IDs of the rows in `states` that `selection` names. */
  private async selected(
    manager: EntityManager,
    selection: OutboxSelection,
    states: PostbackState[],
  ): Promise<string[]> {
    const find = async (ids?: string[]) => {
      const rows = await manager.find(Postback, {
        select: { id: true },
        where: {
          state: In(states),
          ...(ids ? { id: In(ids) } : {}),
          ...(selection.tracker ? { tracker: selection.tracker } : {}),
        },
      });
      return rows.map((row) => row.id);
    };
    return selection.ids ? (await inIdBatches(selection.ids, find)).flat() : find();
  }

  private async update(
    manager: EntityManager,
    selection: OutboxSelection,
    states: PostbackState[],
    change: Partial<Postback>,
  ): Promise<number> {
    if (!selection.ids) return this.updateWhere(manager, selection, states, change);
    return sum(
      await inIdBatches(selection.ids, (ids) =>
        this.updateWhere(manager, { ...selection, ids }, states, change),
      ),
    );
  }

  private async updateWhere(
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
