import { z } from 'zod';

import { unknownNameHelp } from '../common/did-you-mean.js';

/**
 * An object of options that refuses keys it does not declare: a misspelled option is an error
 * naming it and the closest known key, never silently ignored. Every options object of the
 * module is one of these.
 *
 * The unknown-key message holds one line per key, in the order of the issue's `keys`, which
 * `describeOptionIssues()` pairs with the keys to name each one with its full path.
 */
export function strictOptions<Shape extends z.core.$ZodLooseShape>(shape: Shape) {
  const known = Object.keys(shape);
  return z.strictObject(shape, {
    error: (issue) =>
      issue.code === 'unrecognized_keys'
        ? issue.keys.map((key) => unknownNameHelp(key, known)).join('\n')
        : undefined,
  });
}

/** A function-valued option (clock, visitorKey…): any function, checked only for being one. */
export function functionOption<Fn extends (...args: never[]) => unknown>() {
  return z
    .custom<Fn>((value) => typeof value === 'function', { error: 'must be a function' })
    .meta({ type: 'function' });
}
