import { randomUUID } from 'node:crypto';

import type { DataSource } from 'typeorm';

import { Conversion } from '../../src/conversion/conversion.entity.js';
import { Postback } from '../../src/outbox/postback.entity.js';

/**
 * Pending purchases with their outbox rows, shaped as ConversionService writes them, for the
 * tests and the benchmark that need many postbacks waiting without recording each one through
 * the module (test/databases/multi-process.db-spec.ts; bench/processes: drain.ts, seed.ts for
 * the PostgreSQL and 1M-row figures, claim-query.ts).
 */
export interface PendingPurchaseOptions {
  /** The tracker the conversions are attributed to (by click ID). */
  tracker: string;
  /** Order `n` is `${prefix}${n}`, its click `click-${prefix}${n}`. @default 'order-' */
  prefix?: string;
  /** @default '10.00' */
  amount?: string;
  /** @default 'EUR' */
  currency?: string;
  /** The commission (the postback's payout), in `currency`; null for none. @default null */
  commission?: string | null;
  /** How many orders the batch has: row `n` was created `count - n` ms before `now`. */
  count: number;
  /** @default Date.now() */
  now?: number;
  /** When order `n` was created, instead of `count - n` ms before `now`. */
  createdAtOf?: (n: number) => number;
  /**
   * The IDs of order `n`'s conversion and outbox row; random UUIDs by default. Ascending IDs
   * keep the primary and unique indexes of a million-row table append-only while it is seeded.
   */
  idsOf?: (n: number) => { conversion: string; postback: string };
  /** When every row falls due; by default each when it was created (all due, oldest first). */
  dueAt?: number;
}

export const orderIdOf = (prefix: string, n: number) => `${prefix}${n}`;
export const clickIdOf = (prefix: string, n: number) => `click-${prefix}${n}`;

/** Order `n` of a batch: its conversion and its pending outbox row. */
export function pendingPurchase(
  n: number,
  options: PendingPurchaseOptions & { now: number },
): { conversion: Conversion; postback: Postback } {
  const prefix = options.prefix ?? 'order-';
  const orderId = orderIdOf(prefix, n);
  const clickId = clickIdOf(prefix, n);
  const amount = options.amount ?? '10.00';
  const currency = options.currency ?? 'EUR';
  const commission = options.commission ?? null;
  const createdAt = options.createdAtOf?.(n) ?? options.now - (options.count - n);
  const ids = options.idsOf?.(n) ?? { conversion: randomUUID(), postback: randomUUID() };
  const conversion: Conversion = {
    id: ids.conversion,
    type: 'purchase',
    reference: orderId,
    orderId,
    customerId: null,
    visitorKey: null,
    amount,
    currency,
    commission,
    commissionCurrency: commission === null ? null : currency,
    tracker: options.tracker,
    clickId,
    attribution: 'click_id',
    occurredAt: createdAt,
    createdAt,
  };
  const postback: Postback = {
    id: ids.postback,
    conversionId: conversion.id,
    tracker: options.tracker,
    state: 'pending',
    fields: {
      clickId,
      eventType: 'purchase',
      conversionId: conversion.id,
      occurredAt: createdAt,
      orderId,
      amount,
      currency,
      ...(commission !== null && { payout: commission, payoutCurrency: currency }),
      sub: {},
    },
    attempts: 0,
    lostClaims: 0,
    sendingAt: null,
    afterPostbackId: null,
    nextAttemptAt: options.dueAt ?? createdAt,
    leaseOwner: null,
    claimToken: null,
    lastStatus: null,
    lastError: null,
    deliveredAt: null,
    createdAt,
    updatedAt: createdAt,
  };
  return { conversion, postback };
}

/**
 * Writes `options.count` pending purchases with their outbox rows through TypeORM, 500 a
 * transaction. Returns the postback ID (the event ID) of each order ID.
 */
export async function seedPendingPostbacks(
  dataSource: DataSource,
  options: PendingPurchaseOptions,
): Promise<Map<string, string>> {
  const batch = { ...options, now: options.now ?? Date.now() };
  const postbackOfOrder = new Map<string, string>();
  const CHUNK = 500;
  for (let start = 0; start < batch.count; start += CHUNK) {
    const conversions: Conversion[] = [];
    const postbacks: Postback[] = [];
    for (let n = start; n < Math.min(batch.count, start + CHUNK); n++) {
      const { conversion, postback } = pendingPurchase(n, batch);
      conversions.push(conversion);
      postbacks.push(postback);
      postbackOfOrder.set(conversion.orderId as string, postback.id);
    }
    await dataSource.transaction(async (manager) => {
      await manager.insert(Conversion, conversions);
      await manager.insert(Postback, postbacks);
    });
  }
  return postbackOfOrder;
}
