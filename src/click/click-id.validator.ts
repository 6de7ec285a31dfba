import type { ResolvedTracker } from '../resolve-postback-options.js';

// Control characters and lone surrogates can never be part of a real click ID, and bidi
// overrides only serve to disguise one in logs and dashboards.
const FORBIDDEN = /[\p{Cc}\p{Cs}\u202A-\u202E\u2066-\u2069]/u;

/** Why a value cannot be this tracker's click ID, or undefined when it can. */
export function clickIdProblem(value: unknown, tracker: ResolvedTracker): string | undefined {
  if (typeof value !== 'string') return 'must be a single string';
  if (value.length === 0) return 'is empty';
  if (FORBIDDEN.test(value)) return 'contains control or formatting characters';
  const length = codePointLength(value, tracker.maxClickIdLength);
  if (length > tracker.maxClickIdLength) {
    return `is ${length} characters long; tracker "${tracker.name}" accepts at most ${tracker.maxClickIdLength}`;
  }
  if (tracker.clickIdPattern && !tracker.clickIdPattern.test(value)) {
    return `does not match tracker "${tracker.name}"'s clickIdPattern`;
  }
  return undefined;
}

/** Why a free-text value (order ID, sub-parameter, customer ID) is unsafe, or undefined. */
export function textProblem(value: unknown, maxLength: number): string | undefined {
  if (value === undefined || value === null) return 'is required';
  if (typeof value !== 'string') return 'must be a string';
  if (value.length === 0) return 'is empty';
  if (FORBIDDEN.test(value)) return 'contains control or formatting characters';
  if (codePointLength(value, maxLength) > maxLength)
    return `is longer than ${maxLength} characters`;
  return undefined;
}

/**
 * Characters (code points) of `value`, counted only when it could exceed `max`: never more
 * than its UTF-16 length, so a short value (every landing's) skips the array a count builds.
 */
function codePointLength(value: string, max: number): number {
  return value.length <= max ? value.length : [...value].length;
}
