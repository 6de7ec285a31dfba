import type { PostbackFields } from './postback-fields.js';
import type { ResolvedTracker } from '../options/resolved-options.js';
import { computeCommission } from './commission.calculator.js';
import { buildPostbackRequest, type PostbackRequest } from './postback-request.builder.js';
import { POSTBACK_PRESETS } from './presets/index.js';

/** A sample conversion, with values that show where each field lands. */
export const SAMPLE_CONVERSION = {
  clickId: 'TEST-CLICK-1',
  orderId: 'TEST-ORDER-1',
  // Networks that key conversions by customer (Dub's customerExternalId) refuse a request
  // without one: the sample carries every field a conversion can.
  customerId: 'TEST-CUSTOMER-1',
  amount: '59.97',
  currency: 'EUR',
} as const;

export interface PostbackSample {
  /** The landing URL shape to give the network: which parameter carries its click macro. */
  landingUrl: string;
  /** The exact postback a sample purchase would produce. */
  request: PostbackRequest;
  /** What the merchant must set up on the network's side (documented by the network). */
  notes: string[];
  /** What the reference could not confirm about this preset. */
  unconfirmed: string[];
}

/**
 * What a tracker configuration produces, for a merchant to paste into the network's test tool
 * before going live: the landing URL shape, and the postback of a sample purchase with every
 * value filled in and the token or signature applied.
 */
export function samplePostback(
  tracker: ResolvedTracker,
  preset: string | undefined,
  shopUrl = 'https://your-shop.example/',
  now = Date.now(),
): PostbackSample {
  const definition = preset ? POSTBACK_PRESETS.get(preset) : undefined;
  const fields = sampleFields(tracker, {
    conversionId: '00000000-0000-4000-8000-000000000001',
    orderId: SAMPLE_CONVERSION.orderId,
    occurredAt: now,
  });
  const landing = new URL(shopUrl);
  const macro = definition?.clickMacro ?? `<${tracker.name}'s click ID macro>`;
  const landingUrl =
    definition && !definition.clickMacro
      ? `${landing.href} (${definition.title} appends ${tracker.clickParams[0]}=… itself)`
      : `${landing.href}${landing.search ? '&' : '?'}${tracker.clickParams[0]}=${macro}`;
  return {
    landingUrl,
    request: buildPostbackRequest(tracker, fields, '00000000-0000-4000-8000-000000000002', now),
    notes: definition?.notes ?? [],
    unconfirmed: definition?.unconfirmed ?? [],
  };
}

/**
 * The fields of the sample conversion for `tracker`: a purchase (or the first event type it
 * takes), with customer, commission, and the currency the receiver reads (Everflow's offer's).
 * The admin test postback sends these too, so it is a request the network accepts.
 */
export function sampleFields(
  tracker: ResolvedTracker,
  ids: { conversionId: string; orderId: string; occurredAt: number },
): PostbackFields {
  const eventType =
    tracker.events && !tracker.events.has('purchase') ? [...tracker.events][0] : 'purchase';
  const order = { ...SAMPLE_CONVERSION, currency: tracker.currency ?? SAMPLE_CONVERSION.currency };
  const rule = tracker.commission[eventType] ?? tracker.commission['*'];
  const payout = rule ? computeCommission(rule, order) : undefined;
  return {
    clickId: SAMPLE_CONVERSION.clickId,
    eventType,
    ...ids,
    customerId: SAMPLE_CONVERSION.customerId,
    amount: SAMPLE_CONVERSION.amount,
    currency: order.currency,
    ...(payout && { payout: payout.amount, payoutCurrency: payout.currency }),
  };
}
