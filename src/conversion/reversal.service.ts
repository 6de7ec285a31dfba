import { Inject, Injectable } from '@nestjs/common';
import { type EntityManager, In, IsNull, Not } from 'typeorm';

import { VisitorKeys } from '../click/visitor-keys.js';
import { uuidV7 } from '../common/uuid-v7.js';
import { PostbackDatabase } from '../database/postback-database.js';
import { insertRow } from '../database/raw-insert.js';
import { Postback } from '../outbox/postback.entity.js';
import { POSTBACK_RESOLVED_OPTIONS } from '../postback.constants.js';
import { postsEvent, type ResolvedPostbackOptions } from '../options/resolved-options.js';
import { conversionPostback } from './conversion-postback.js';
import { Conversion } from './conversion.entity.js';
import { REVERSAL_TYPES } from '../common/event-types.js';
import { type RecordResult, recordResult } from './record-result.js';
import {
  type ReversalAmounts,
  type ReversedOrder,
  refuseOtherCurrency,
  reversalAmounts,
} from './reversal.calculator.js';
import type { SettledEvent } from './settled-event.js';

/**
 * Records a refund, chargeback or cancellation of an earlier order: credited to the tracker of
 * the original conversion, with the original's commission (in proportion, for a partial
 * refund), and queued behind the original's postback so it never arrives first.
 */
@Injectable()
export class ReversalService {
  constructor(
    private readonly db: PostbackDatabase,
    private readonly visitorKeys: VisitorKeys,
    @Inject(POSTBACK_RESOLVED_OPTIONS) private readonly options: ResolvedPostbackOptions,
  ) {}

  /** Inside the recording transaction, which must be READ COMMITTED (see `record()`). */
  async insert(
    manager: EntityManager,
    input: SettledEvent,
    reference: string,
    now: number,
  ): Promise<RecordResult> {
    const original = await this.originalOf(manager, input.orderId as string);
    const amounts = original ? await this.amountsOf(manager, original, input) : undefined;
    const commission = amounts?.commission;
    const tracker = original?.tracker ? this.options.trackers.get(original.tracker) : undefined;
    const conversion: Conversion = {
      id: uuidV7(now),
      type: input.type,
      reference,
      orderId: input.orderId ?? null,
      customerId: input.customerId ?? original?.customerId ?? null,
      visitorKey: this.visitorKeys.digest(input.sessionKey),
      amount: amounts?.amount ?? input.amount ?? null,
      currency: original?.currency ?? input.currency ?? null,
      commission: commission?.amount ?? null,
      commissionCurrency: commission?.currency ?? null,
      tracker: tracker ? tracker.name : null,
      clickId: tracker ? (original?.clickId ?? null) : null,
      attribution: tracker && original ? original.attribution : 'none',
      occurredAt: input.occurredAt,
      createdAt: now,
    };
    await insertRow(manager, Conversion, conversion);

    let postback: Postback | undefined;
    const originalPostback =
      tracker && original?.clickId && postsEvent(tracker, input.type)
        ? await manager.findOneBy(Postback, { conversionId: original.id, tracker: tracker.name })
        : null;
    // Only a conversion the tracker was told of can be reversed there.
    if (originalPostback && original?.clickId) {
      postback = conversionPostback(
        conversion,
        original.clickId,
        // (null when the original's fields no longer parse; see jsonText)
        originalPostback.fields?.sub ?? {},
        commission,
        now,
        originalPostback.id, // wait for the original
      );
      await insertRow(manager, Postback, postback);
    }
    return recordResult(conversion, postback, false);
  }

  /** What this reversal takes back of `original`, after the order's earlier reversals. */
  private async amountsOf(
    manager: EntityManager,
    original: Conversion,
    input: SettledEvent,
  ): Promise<ReversalAmounts> {
    // Found by an amount that is not null, and an amount always comes with its currency.
    const order: ReversedOrder = {
      amount: original.amount as string,
      currency: original.currency as string,
      commission: original.commission,
      commissionCurrency: original.commissionCurrency,
    };
    refuseOtherCurrency(order, input.currency);
    const earlier = await manager.find(Conversion, {
      select: { id: true, amount: true, commission: true },
      where: { orderId: original.orderId as string, type: In([...REVERSAL_TYPES]) },
    });
    return reversalAmounts(order, earlier, input.amount);
  }

  /**
   * The conversion a reversal undoes: the purchase with that order ID, else another event with
   * an amount (a registration or lead carrying the same ID is not refundable). Locked on the
   * server engines, so two reversals of one order cannot both pass the amount check.
   */
  private async originalOf(manager: EntityManager, orderId: string): Promise<Conversion | null> {
    const refundable = { orderId, amount: Not(IsNull()) };
    const found =
      (await manager.findOne(Conversion, {
        where: { ...refundable, type: 'purchase' },
        order: { createdAt: 'ASC' },
      })) ??
      (await manager.findOne(Conversion, {
        where: { ...refundable, type: Not(In([...REVERSAL_TYPES, 'registration', 'test'])) },
        order: { createdAt: 'ASC' },
      }));
    if (!found || this.db.serialised) return found;
    return manager
      .createQueryBuilder(Conversion, 'c')
      .setLock('pessimistic_write')
      .where('c.id = :id', { id: found.id })
      .getOne();
  }
}
