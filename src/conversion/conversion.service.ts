import { Inject, Injectable, Logger } from '@nestjs/common';
import { type EntityManager, In, IsNull, Not } from 'typeorm';

import { ClickService } from '../click/click.service.js';
import type { Clock } from '../common/clock.js';
import { Big, toStoredCurrencyString } from '../common/money.js';
import { InvalidInputError } from '../errors/invalid-input.error.js';
import { uuidV7 } from '../common/uuid-v7.js';
import { isUniqueViolation, PostbackDatabase } from '../database/postback-database.js';
import { type EntityRow, insertRow, insertRows } from '../database/raw-sql.js';
import { OutboxFlusher } from '../outbox/outbox.flusher.js';
import { pendingPostback } from '../outbox/pending-postback.js';
import { Postback } from '../outbox/postback.entity.js';
import type { PostbackFields } from '../postback/postback-fields.js';
import { POSTBACK_CLOCK, POSTBACK_RESOLVED_OPTIONS } from '../postback.constants.js';
import {
  postsEvent,
  type ResolvedPostbackOptions,
  type ResolvedTracker,
} from '../options/resolved-options.js';
import { AttributionService } from './attribution.service.js';
import { computeCommission, type Money } from '../postback/commission.calculator.js';
import { type AttributionSource, Conversion } from './conversion.entity.js';
import { CheckedEvent, type ConversionEvent, type ValidEvent } from './checked-event.js';
import { isReversal, REVERSAL_TYPES } from '../common/event-types.js';
import { idempotencyKey } from './idempotency-key.js';
import { refuseFutureEvent } from './future-event.js';
import { storePendingClicks } from './pending-clicks.js';
import { refuseUndeclaredType } from './declared-event-type.js';

export type { ConversionEvent } from './checked-event.js';

/** @publicApi */
export interface RecordResult {
  conversionId: string;
  /**
   * The same event (type and order ID; customer ID for a registration) was recorded before;
   * this is that conversion.
   */
  duplicate: boolean;
  attributed: boolean;
  attribution: AttributionSource;
  tracker?: string;
  /** A postback was queued for the tracker. */
  queued: boolean;
  postbackId?: string;
  commission?: Money;
}

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
    const input: Input = {
      ...checked.event,
      occurredAt: checked.event.occurredAt ?? this.clock.now(),
    };
    const reference = idempotencyKey(input);
    let result: RecordResult;
    const lockDeadline = await storePendingClicks(this.db, this.clicks);
    const reversal = isReversal(input.type);
    try {
      result = await this.db.groupedTransaction(
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
      result = await this.db.run((m) => this.duplicateOf(m, existing, input));
    }
    if (result.queued && !result.duplicate) this.flusher.nudge();
    return result;
  }

  private async insert(
    manager: EntityManager,
    input: Input,
    reference: string,
  ): Promise<RecordResult> {
    const now = this.clock.now();
    if (isReversal(input.type)) return this.insertReversal(manager, input, reference, now);
    // One HMAC for the lookups, the row and the customer link.
    const visitor = this.clicks.visitorKeys.digest(input.sessionKey);
    const attribution = await this.attribution.attribute(manager, input, visitor);
    const tracker = attribution.tracker;
    const commission = tracker ? this.commissionFor(tracker, input) : undefined;
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
      postback = this.newPostback(
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
    return this.resultOf(conversion, postback, false);
  }

  /**
   * A refund, chargeback or cancellation of an earlier order: credited to the tracker of the
   * original conversion, with the original's commission (in proportion, for a partial
   * refund), and queued behind the original's postback so it never arrives first.
   */
  private async insertReversal(
    manager: EntityManager,
    input: Input,
    reference: string,
    now: number,
  ): Promise<RecordResult> {
    const original = await this.originalOf(manager, input.orderId as string);
    let amount: string | undefined;
    let commission: Money | undefined;
    if (original) {
      const currency = original.currency as string;
      if (input.currency !== undefined && input.currency !== currency) {
        throw new InvalidInputError({ currency: [`currency must be the order's (${currency})`] });
      }
      const earlier = await manager.find(Conversion, {
        select: { id: true, amount: true, commission: true },
        where: { orderId: original.orderId as string, type: In([...REVERSAL_TYPES]) },
      });
      const reversed = earlier.reduce((sum, r) => sum.plus(r.amount ?? 0), new Big(0));
      const left = new Big(original.amount as string).minus(reversed);
      const inOrderUnits = (value: Big) =>
        toStoredCurrencyString(value, currency, original.amount as string);
      if (left.lte(0))
        throw new InvalidInputError({ orderId: ['the order is already reversed in full'] });
      // Without an amount: whatever is left of the order.
      const requested = input.amount !== undefined ? new Big(input.amount) : left;
      if (requested.gt(left)) {
        throw new InvalidInputError({
          amount: [
            `amount is more than what is left of the order to reverse (${inOrderUnits(left)})`,
          ],
        });
      }
      amount = inOrderUnits(requested);
      if (original.commission != null && original.commissionCurrency) {
        // Rounded cumulatively, so that partial reversals add up to the commission exactly.
        const ccy = original.commissionCurrency;
        const inCommissionUnits = (value: Big) =>
          toStoredCurrencyString(value, ccy, original.commission as string);
        const already = earlier.reduce((sum, r) => sum.plus(r.commission ?? 0), new Big(0));
        const upToNow = new Big(original.commission)
          .times(reversed.plus(requested))
          .div(original.amount as string);
        commission = {
          amount: inCommissionUnits(new Big(inCommissionUnits(upToNow)).minus(already)),
          currency: ccy,
        };
      }
    }
    const tracker = original?.tracker ? this.options.trackers.get(original.tracker) : undefined;
    const conversion: Conversion = {
      id: uuidV7(now),
      type: input.type,
      reference,
      orderId: input.orderId ?? null,
      customerId: input.customerId ?? original?.customerId ?? null,
      visitorKey: this.clicks.visitorKeys.digest(input.sessionKey),
      amount: amount ?? input.amount ?? null,
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
      postback = this.newPostback(
        conversion,
        original.clickId,
        // (null when the original's fields no longer parse; see jsonText)
        originalPostback.fields?.sub ?? {},
        commission,
        now,
      );
      postback.afterPostbackId = originalPostback.id; // wait for the original
      await insertRow(manager, Postback, postback);
    }
    return this.resultOf(conversion, postback, false);
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

  private newPostback(
    conversion: Conversion,
    clickId: string,
    sub: Record<string, string>,
    commission: Money | undefined,
    now: number,
  ): Postback {
    // Frozen now, rendered at send time: a later change of commission rules or amounts never
    // alters what this conversion reports.
    const fields: PostbackFields = {
      clickId,
      eventType: conversion.type,
      conversionId: conversion.id,
      occurredAt: conversion.occurredAt,
      ...(conversion.orderId !== null && { orderId: conversion.orderId }),
      ...(conversion.customerId !== null && { customerId: conversion.customerId }),
      ...(conversion.amount !== null && { amount: conversion.amount }),
      ...(conversion.currency !== null && { currency: conversion.currency }),
      ...(commission && { payout: commission.amount, payoutCurrency: commission.currency }),
      sub,
    };
    return pendingPostback(conversion.id, conversion.tracker as string, fields, now);
  }

  private commissionFor(tracker: ResolvedTracker, input: Input): Money | undefined {
    // Own keys only: a custom event type such as "constructor" must not find Object's.
    const rules = tracker.commission;
    const rule = Object.hasOwn(rules, input.type)
      ? rules[input.type]
      : Object.hasOwn(rules, '*')
        ? rules['*']
        : undefined;
    return rule ? computeCommission(rule, input) : undefined;
  }

  /** What record() answers for a conversion (its commission as stored with it). */
  private resultOf(
    conversion: Conversion,
    postback: Postback | null | undefined,
    duplicate: boolean,
  ): RecordResult {
    return {
      conversionId: conversion.id,
      duplicate,
      attributed: conversion.attribution !== 'none',
      attribution: conversion.attribution,
      tracker: conversion.tracker ?? undefined,
      queued: postback != null,
      postbackId: postback?.id,
      commission:
        conversion.commission !== null && conversion.commissionCurrency !== null
          ? { amount: conversion.commission, currency: conversion.commissionCurrency }
          : undefined,
    };
  }

  private async duplicateOf(
    manager: EntityManager,
    existing: Conversion,
    input: Input,
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
    return this.resultOf(existing, postback, true);
  }
}

/** A valid event with its time settled. */
type Input = ValidEvent & { occurredAt: number };
