import { InvalidInputError } from '../errors/invalid-input.error.js';
import { didYouMean } from '../common/did-you-mean.js';
import { BUILT_IN_EVENT_TYPES, isBuiltInEventType } from '../common/event-types.js';

/**
 * Refuses an event whose type is neither built in nor declared in `customEventTypes`: a typo
 * (`purchse`) would be recorded, answered 202 and posted to no tracker, in silence.
 */
export function refuseUndeclaredType(type: string, declared: readonly string[]): void {
  if (isBuiltInEventType(type) || declared.includes(type)) return;
  const known = [...BUILT_IN_EVENT_TYPES, ...declared];
  const close = didYouMean(type, known);
  throw new InvalidInputError({
    type: [
      `type "${type}" is not a known event type${close ? ` (did you mean "${close}"?)` : ''}; ` +
        `known: ${known.join(', ')}. A custom type must be declared in the customEventTypes option`,
    ],
  });
}
