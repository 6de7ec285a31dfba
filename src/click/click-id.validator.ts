import { codePointLength, forbiddenCharacterProblem } from '../common/text.js';
import type { ResolvedTracker } from '../options/resolved-options.js';

/** Why a value cannot be this tracker's click ID, or undefined when it can. */
export function clickIdProblem(value: unknown, tracker: ResolvedTracker): string | undefined {
  if (typeof value !== 'string') return 'must be a single string';
  if (value.length === 0) return 'is empty';
  const forbidden = forbiddenCharacterProblem(value);
  if (forbidden) return forbidden;
  const length = codePointLength(value, tracker.maxClickIdLength);
  if (length > tracker.maxClickIdLength) {
    return `is ${length} characters long; tracker "${tracker.name}" accepts at most ${tracker.maxClickIdLength}`;
  }
  if (tracker.clickIdPattern && !tracker.clickIdPattern.test(value)) {
    return `does not match tracker "${tracker.name}"'s clickIdPattern`;
  }
  return undefined;
}
