import type { TrackerOptions } from '../interfaces/index.js';
import { unknownNameHelp } from '../common/did-you-mean.js';
import { BUILT_IN_MACROS } from './macros.js';

/** `{{name}}` placeholders of a template, filled from `values` at start-up. */
export function placeholdersOf(text: string): string[] {
  return [...text.matchAll(/\{\{([a-z_][a-z0-9_]*)\}\}/g)].map((match) => match[1]);
}

/**
 * Keys of the merchant's `values` and `eventValues[type]` that no macro or placeholder of the
 * tracker's templates uses. A misspelt key (`stauts`) would otherwise be dropped in silence
 * while the preset's default (`status: sale`) goes to the network.
 */
export function unusedValueProblems(own: TrackerOptions, used: Iterable<string>): string[] {
  const usable = [...new Set(used)].filter(
    (name) =>
      name !== 'token' &&
      !name.startsWith('sub.') &&
      !(BUILT_IN_MACROS as readonly string[]).includes(name),
  );
  const problems: string[] = [];
  const check = (values: Record<string, string> | undefined, path: string) => {
    for (const key of Object.keys(values ?? {})) {
      if (usable.includes(key)) continue;
      problems.push(
        `${path}.${key}: no macro of the postback or reversal template uses it — ${
          usable.length > 0 ? unknownNameHelp(key, usable) : 'they take no values: remove it'
        }`,
      );
    }
  };
  check(own.values, 'values');
  for (const [type, values] of Object.entries(own.eventValues ?? {})) {
    check(values, `eventValues.${type}`);
  }
  return problems;
}
