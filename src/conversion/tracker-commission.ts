import type { ResolvedTracker } from '../options/resolved-options.js';
import { computeCommission, type Money } from '../postback/commission.calculator.js';
import type { SettledEvent } from './settled-event.js';

/**
 * The commission a tracker's rules grant for an event: the rule of its type, else the `*`
 * rule, else none.
 */
export function trackerCommission(
  tracker: ResolvedTracker,
  event: SettledEvent,
): Money | undefined {
  // Own keys only: a custom event type such as "constructor" must not find Object's.
  const rules = tracker.commission;
  const rule = Object.hasOwn(rules, event.type)
    ? rules[event.type]
    : Object.hasOwn(rules, '*')
      ? rules['*']
      : undefined;
  return rule ? computeCommission(rule, event) : undefined;
}
