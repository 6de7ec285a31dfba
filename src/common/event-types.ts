// The event-type vocabulary: what options, presets, rendering and recording all speak of,
// kept apart from the DTO that validates an incoming event.

/** What a custom event type's name may look like. */
export const EVENT_TYPE_PATTERN = /^[a-z][a-z0-9_.-]{0,63}$/;

/** Events that undo (part of) an earlier conversion of the same order. */
export const REVERSAL_TYPES = ['refund', 'chargeback', 'cancellation'] as const;
export const isReversal = (type: string) => (REVERSAL_TYPES as readonly string[]).includes(type);

/** The event types the module knows without being told. */
export const BUILT_IN_EVENT_TYPES = ['purchase', 'registration', ...REVERSAL_TYPES] as const;

export const isBuiltInEventType = (type: string) =>
  (BUILT_IN_EVENT_TYPES as readonly string[]).includes(type);
