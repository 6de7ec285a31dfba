import type { POSTBACK_EVENTS } from '../postback.constants.js';
import type { ConversionEvent } from './checked-event.js';

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
