// Control characters and lone surrogates can never be part of a real click ID. Format
// characters (zero-width space, BOM, bidi marks and overrides, soft hyphen…) are invisible:
// they only serve to make two IDs look alike, or to disguise one in logs and dashboards.
// Line and paragraph separators would reach the logs raw and break their lines.
const FORBIDDEN = /[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}]/u;

/** Why a free-text value (order ID, sub-parameter, customer ID) is unsafe, or undefined. */
export function textProblem(value: unknown, maxLength: number): string | undefined {
  if (value === undefined || value === null) return 'is required';
  if (typeof value !== 'string') return 'must be a string';
  if (value.length === 0) return 'is empty';
  const forbidden = forbiddenCharacterProblem(value);
  if (forbidden) return forbidden;
  if (codePointLength(value, maxLength) > maxLength)
    return `is longer than ${maxLength} characters`;
  return undefined;
}

/** Names the first forbidden character of `value` and where it is, or undefined. */
export function forbiddenCharacterProblem(value: string): string | undefined {
  const match = FORBIDDEN.exec(value);
  if (match === null) return undefined;
  const character = match[0];
  const code = (character.codePointAt(0) as number).toString(16).toUpperCase().padStart(4, '0');
  const kind = /\p{Cc}/u.test(character)
    ? 'a control character'
    : /\p{Cf}/u.test(character)
      ? 'an invisible format character'
      : /\p{Cs}/u.test(character)
        ? 'a lone surrogate (not a character: broken UTF-16)'
        : 'a line or paragraph separator';
  return `contains ${kind}, U+${code}, at index ${match.index}; it is refused, not removed`;
}

/**
 * Characters (code points) of `value`, counted only when it could exceed `max`: never more
 * than its UTF-16 length, so a short value (every landing's) skips the array a count builds.
 */
export function codePointLength(value: string, max: number): number {
  return value.length <= max ? value.length : [...value].length;
}
