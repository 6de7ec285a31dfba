/**
 * Compiled by `npm run typecheck`, never run: preset names and the built-in event types are
 * literal unions (an editor completes them, a misspelt one does not compile), and the event
 * payloads for `@nestjs/event-emitter` are typed.
 */
import type { EventEmitter2 } from '@nestjs/event-emitter';

import {
  type BuiltInEventType,
  type ConversionEvent,
  type ConversionService,
  type CustomEventPayload,
  POSTBACK_EVENTS,
  type PostbackEventPayloads,
  type PostbackEventType,
  type PresetName,
  type PurchaseEventPayload,
  type TrackerOptions,
} from '../../src/index.js';

declare const conversions: ConversionService;
declare const emitter: EventEmitter2;

// A preset is one of the registry's names.
const voluum: TrackerOptions = { name: 'a', preset: 'voluum', values: { tracking_domain: 'x' } };
// @ts-expect-error "volume" is no preset
const volume: TrackerOptions = { name: 'a', preset: 'volume' };
const presetName: PresetName = 'post-affiliate-pro';

// The built-in event types, exactly.
const builtIn: BuiltInEventType[] = [
  'purchase',
  'registration',
  'refund',
  'chargeback',
  'cancellation',
];
// @ts-expect-error "lead" is not built in
const notBuiltIn: BuiltInEventType = 'lead';
// The built-in names stay in the union beside the custom ones (so an editor offers them):
// with no PostbackCustomEventTypes declared, any text is a custom type.
const custom: PostbackEventType = 'subscription.renewed';
type OffersBuiltIns = BuiltInEventType extends PostbackEventType ? true : never;
const offersBuiltIns: OffersBuiltIns = true;
const tracker: TrackerOptions = { name: 'b', preset: 'dub', events: ['purchase', 'refund'] };
void conversions.record({ type: 'refund', orderId: 'o-1' });

// The default event names are literal types, and each payload has its type.
const purchaseName: 'postback.purchase' = POSTBACK_EVENTS.purchase;
const registrationName: 'postback.registration' = POSTBACK_EVENTS.registration;
const customName: 'postback.event' = POSTBACK_EVENTS.custom;
void emitter.emitAsync(POSTBACK_EVENTS.purchase, {
  orderId: 'o-1',
  amount: '59.97',
  currency: 'EUR',
} satisfies PurchaseEventPayload);
// @ts-expect-error a purchase event's type is implied by its name
const typed: PurchaseEventPayload = { type: 'purchase', orderId: 'o-1' };
// @ts-expect-error a misspelt field (orderID) is no field of the event
const misspelt: PurchaseEventPayload = { orderID: 'o-1' };
// @ts-expect-error a custom event needs its type
const untyped: CustomEventPayload = { orderId: 'o-1' };
const byName: PostbackEventPayloads['postback.event'] = { type: 'lead', orderId: 'l-1' };
const asRecorded: ConversionEvent = byName;

export {
  voluum,
  volume,
  presetName,
  builtIn,
  notBuiltIn,
  custom,
  offersBuiltIns,
  tracker,
  purchaseName,
  registrationName,
  customName,
  typed,
  misspelt,
  untyped,
  asRecorded,
};
