import { Inject, Injectable, Logger } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

import { ClickService } from '../click/click.service.js';
import type { Clock } from '../common/clock.js';
import { InvalidInputError } from '../errors/invalid-input.error.js';
import { uuidV7 } from '../common/uuid-v7.js';
import { isUniqueViolation, PostbackDatabase } from '../database/postback-database.js';
import { type EntityRow, insertRows } from '../database/raw-insert.js';
import { OutboxFlusher } from '../outbox/outbox.flusher.js';
import { Postback } from '../outbox/postback.entity.js';
import { POSTBACK_CLOCK, POSTBACK_RESOLVED_OPTIONS } from '../postback.constants.js';
import { postsEvent, type ResolvedPostbackOptions } from '../options/resolved-options.js';
import { AttributionService } from './attribution.service.js';
import { CheckedEvent, type ConversionEvent } from './checked-event.js';
import { conversionPostback } from './conversion-postback.js';
import { Conversion } from './conversion.entity.js';
import { refuseUndeclaredType } from './declared-event-type.js';
import { isReversal } from '../common/event-types.js';
import { refuseFutureEvent } from './future-event.js';
import { idempotencyKey } from './idempotency-key.js';
import { storePendingClicks } from './pending-clicks.js';
import { type RecordResult, recordResult } from './record-result.js';
import { ReversalService } from './reversal.service.js';
import type { SettledEvent } from './settled-event.js';
import { trackerCommission } from './tracker-commission.js';

export type { ConversionEvent } from './checked-event.js';
export type { RecordResult } from './record-result.js';

/**
 * Records shop events: validates them, attributes them to a click, computes the commission
 * and writes the conversion with its outbox row in one transaction, then nudges the flusher.
 * Idempotent on (type, order ID), (type, customer ID) for a registration (see idempotencyKey):
 * a repeat, even a concurrent one, returns the first result.
 *
 * @publicApi
 */
@Injectable()
export class ConversionService {
  private readonly logger = new Logger(ConversionService.name);

  constructor(
    private readonly db: PostbackDatabase,
    private readonly clicks: ClickService,
    private readonly attribution: AttributionService,
    private readonly reversals: ReversalService,
    private readonly flusher: OutboxFlusher,
    @Inject(POSTBACK_RESOLVED_OPTIONS) private readonly options: ResolvedPostbackOptions,
    @Inject(POSTBACK_CLOCK) private readonly clock: Clock,
  ) {}

  async record(event: ConversionEvent): Promise<RecordResult> {
    return this.recordChecked(CheckedEvent.check(event));
  }

  /**
   * `record()` for an event validated already (the agent's HTTP route checks its body with
   * `CheckedEvent.check`, once).
   */
  async recordChecked(checked: CheckedEvent): Promise<RecordResult> {
    // The type alone would let a cast through; validation must not be skippable by accident.
    if (!(checked instanceof CheckedEvent))
      throw new TypeError('recordChecked() needs a CheckedEvent');
    refuseUndeclaredType(checked.event.type, this.options.customEventTypes);
    refuseFutureEvent(checked.event.occurredAt, this.clock.now());
    const input: SettledEvent = {
      ...checked.event,
      occurredAt: checked.event.occurredAt ?? this.clock.now(),
    };
    const result = await this.store(input, idempotencyKey(input));
    if (result.queued && !result.duplicate) this.flusher.nudge();
    return result;
  }

  /** Writes the event once; a repeat of it answers with the first one's result. */
  private async store(input: SettledEvent, reference: string): Promise<RecordResult> {
    const lockDeadline = await storePendingClicks(this.db, this.clicks);
    const reversal = isReversal(input.type);
    try {
      return await this.db.groupedTransaction(
        async (manager) => {
          // A reversal is checked against what is left of its order, so a repeat of it must be
          // recognised before that check. Any other event goes straight to its insert: the
          // unique index on (type, reference) refuses a repeat, caught below. That saves the
          // common case, a new event, one round trip.
          if (reversal) {
            const existing = await manager.findOneBy(Conversion, { type: input.type, reference });
            if (existing) return this.duplicateOf(manager, existing, input);
          }
          return this.insert(manager, input, reference);
        },
        // Any other event is correct under any isolation level: it reads only the click (a
        // stale read of it is as good as a read just before a concurrent landing), and a
        // concurrent repeat meets the unique index whatever the level. A reversal reads the
        // earlier reversals of its order after locking it, and needs READ COMMITTED to see
        // one committed while it waited for that lock.
        //
        // Without a customer to link, a non-reversal writes nothing but its conversion and
        // outbox rows, which insertRows sends as one statement on PostgreSQL: atomic on its
        // own, so it needs no BEGIN and COMMIT around it.
        {
          anyIsolation: !reversal,
          singleWrite: !reversal && input.customerId === undefined,
          lockDeadline,
        },
      );
    } catch (error) {
      // A unique violation: the same event was recorded before, or concurrently and committed
      // first. Refused input: a repeat of an event recorded earlier (under rules, a tracker or
      // a click that have changed since) still answers with the first result, as it would
      // have had it been looked up first.
      if (!isUniqueViolation(error) && !(error instanceof InvalidInputError)) throw error;
      const existing = await this.db.run((m) =>
        m.findOneBy(Conversion, { type: input.type, reference }),
      );
      if (!existing) throw error;
      return this.db.run((m) => this.duplicateOf(m, existing, input));
    }
  }

  private async insert(
    manager: EntityManager,
    input: SettledEvent,
    reference: string,
  ): Promise<RecordResult> {
    const now = this.clock.now();
    if (isReversal(input.type)) return this.reversals.insert(manager, input, reference, now);
    // One HMAC for the lookups, the row and the customer link.
    const visitor = this.clicks.visitorKeys.digest(input.sessionKey);
    const attribution = await this.attribution.attribute(manager, input, visitor);
    const tracker = attribution.tracker;
    const commission = tracker ? trackerCommission(tracker, input) : undefined;
    const conversion: Conversion = {
      id: uuidV7(now),
      type: input.type,
      reference,
      orderId: input.orderId ?? null,
      customerId: input.customerId ?? null,
      visitorKey: visitor,
      amount: input.amount ?? null,
      currency: input.currency ?? null,
      commission: commission?.amount ?? null,
      commissionCurrency: commission?.currency ?? null,
      tracker: tracker?.name ?? null,
      clickId: attribution.clickId ?? null,
      attribution: attribution.source,
      occurredAt: input.occurredAt,
      createdAt: now,
    };
    const rows: EntityRow[] = [{ target: Conversion, row: conversion }];

    let postback: Postback | undefined;
    if (tracker && postsEvent(tracker, input.type)) {
      postback = conversionPostback(
        conversion,
        attribution.clickId as string,
        attribution.click?.subParams ?? {},
        commission,
        now,
      );
      rows.push({ target: Postback, row: postback });
    }
    // The conversion and its outbox row in one statement where the engine allows it.
    await insertRows(manager, rows);
    if (input.customerId) {
      await this.clicks.linkCustomer(manager, input.customerId, visitor, attribution.click);
    }
    return recordResult(conversion, postback, false);
  }

  private async duplicateOf(
    manager: EntityManager,
    existing: Conversion,
    input: SettledEvent,
  ): Promise<RecordResult> {
    if (
      existing.amount !== (input.amount ?? null) ||
      existing.currency !== (input.currency ?? null)
    ) {
      this.logger.warn(
        `Event ${existing.type} "${existing.reference}" was reported again with another amount; the first report stands`,
      );
    }
    const postback = await manager.findOneBy(Postback, { conversionId: existing.id });
    return recordResult(existing, postback, true);
  }
}
