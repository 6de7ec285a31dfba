/**
 * The event types the module knows without being told: a sale, a sign-up, and the three
 * reversals of an earlier order.
 *
 * @publicApi
 */
export type BuiltInEventType =
  'purchase' | 'registration' | 'refund' | 'chargeback' | 'cancellation';

/**
 * The shop's own event types, for the compiler. `customEventTypes` declares them to the module
 * at run time; declare the same names here, once, and `record()`, the event payloads and a
 * tracker's `events` accept only those and the built-in types (an editor completes them):
 *
 * ```ts
 * declare module 'nestjs-postback' {
 *   interface PostbackCustomEventTypes {
 *     lead: true;
 *     'subscription.renewed': true;
 *   }
 * }
 * ```
 *
 * Left empty, any text is accepted as a custom type at compile time (and checked against
 * `customEventTypes` at run time).
 *
 * @publicApi
 */
export interface PostbackCustomEventTypes {}

/**
 * The names declared in `PostbackCustomEventTypes`, or any text while none are
 * (`string & {}` keeps the built-in names offered by an editor).
 *
 * @publicApi
 */
export type CustomEventType = [keyof PostbackCustomEventTypes] extends [never]
  ? string & {}
  : Extract<keyof PostbackCustomEventTypes, string>;

/** An event type `record()` takes: built in, or the shop's own. @publicApi */
export type PostbackEventType = BuiltInEventType | CustomEventType;
