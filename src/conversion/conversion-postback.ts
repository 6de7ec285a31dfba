import { pendingPostback } from '../outbox/pending-postback.js';
import type { Postback } from '../outbox/postback.entity.js';
import type { PostbackFields } from '../postback/postback-fields.js';
import type { Money } from '../postback/commission.calculator.js';
import type { Conversion } from './conversion.entity.js';

/**
 * The outbox row of a conversion for its tracker. Its fields are frozen now and rendered at
 * send time: a later change of commission rules or amounts never alters what this conversion
 * reports. `afterPostbackId` makes a reversal wait for its original's postback.
 */
export function conversionPostback(
  conversion: Conversion,
  clickId: string,
  sub: Record<string, string>,
  commission: Money | undefined,
  now: number,
  afterPostbackId?: string,
): Postback {
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
  return pendingPostback(conversion.id, conversion.tracker as string, fields, now, afterPostbackId);
}
