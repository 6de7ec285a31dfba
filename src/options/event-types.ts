import {
  BUILT_IN_EVENT_TYPES,
  EVENT_TYPE_PATTERN,
  isBuiltInEventType,
} from '../common/event-types.js';
import type { BuiltInEventType, TrackerOptions } from '../interfaces/index.js';
import { unknownNameHelp } from '../common/did-you-mean.js';
import { pathText } from './option-issues.js';
import { assertSame, type Same } from './same-shape.js';

// The public union names exactly the built-in types.
assertSame<Same<(typeof BUILT_IN_EVENT_TYPES)[number], BuiltInEventType>>();

/** What is wrong with a name given in `customEventTypes`, if anything. */
export function customEventTypeProblem(type: string): string | undefined {
  if (!EVENT_TYPE_PATTERN.test(type)) {
    return 'must be lowercase letters, digits, ".", "_" or "-", starting with a letter';
  }
  return isBuiltInEventType(type) ? 'is built in: list only your own types' : undefined;
}

/**
 * Event types a tracker names in `events`, `commission` and `eventValues` must be built in or
 * declared in `customEventTypes`, so a typo (`purchse`) is an error rather than a type that
 * never occurs: a tracker that silently never posts a purchase, or pays nothing for it.
 */
export function eventTypeProblems(
  tracker: TrackerOptions,
  at: PropertyKey[],
  customTypes: readonly string[],
): string[] {
  const known = [...BUILT_IN_EVENT_TYPES, ...customTypes];
  const problems: string[] = [];
  const check = (type: string, path: PropertyKey[]) => {
    if (known.includes(type)) return;
    problems.push(
      `${pathText([...at, ...path])}: unknown event type "${type}" — ${unknownNameHelp(type, known)}` +
        ' (declare your own types once, in customEventTypes)',
    );
  };
  tracker.events?.forEach((type, i) => check(type, ['events', i]));
  for (const type of Object.keys(tracker.commission ?? {})) {
    if (type !== '*') check(type, ['commission', type]);
  }
  for (const type of Object.keys(tracker.eventValues ?? {})) check(type, ['eventValues', type]);
  return problems;
}
