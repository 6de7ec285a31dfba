import type { ConversionEvent } from './checked-event.js';

/**
 * The `@nestjs/event-emitter` events the module listens to, unless the `events` option
 * renames them.
 *
 * @publicApi
 */
export const POSTBACK_EVENTS = {
  purchase: 'postback.purchase',
  registration: 'postback.registration',
  custom: 'postback.event',
} as const;

/** A `postback.purchase` event: a purchase, its `type` implied. @publicApi */
export type PurchaseEventPayload = Omit<ConversionEvent, 'type'>;

/** A `postback.registration` event: a registration, its `type` implied. @publicApi */
export type RegistrationEventPayload = Omit<ConversionEvent, 'type'>;

/** A `postback.event` event: any event, its `type` given (a custom type, a refund…). @publicApi */
export type CustomEventPayload = ConversionEvent;

/**
 * What each default event carries, for `emitAsync(name, payload satisfies …)`. The listener
 * answers with `record()`'s promise, so `emitAsync` resolves to an array of every listener's
 * result, the module's `RecordResult` among them, or rejects with the error (`InvalidInputError`
 * for bad input).
 *
 * @publicApi
 */
export interface PostbackEventPayloads {
  [POSTBACK_EVENTS.purchase]: PurchaseEventPayload;
  [POSTBACK_EVENTS.registration]: RegistrationEventPayload;
  [POSTBACK_EVENTS.custom]: CustomEventPayload;
}
