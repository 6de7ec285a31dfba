import type { Postback } from '../outbox/postback.entity.js';
import type { Money } from '../postback/commission.calculator.js';
import type { AttributionSource, Conversion } from './conversion.entity.js';

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

/** What `record()` answers for a conversion (its commission as stored with it). */
export function recordResult(
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
