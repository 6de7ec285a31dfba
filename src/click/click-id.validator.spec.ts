import type { TrackerOptions } from '../interfaces/index.js';
import { resolvePostbackOptions } from '../options/resolve-options.js';
import type { ResolvedTracker } from '../options/resolved-options.js';
import { textProblem } from '../common/text.js';
import { clickIdProblem } from './click-id.validator.js';

function trackerOf(options: Partial<TrackerOptions> = {}): ResolvedTracker {
  return resolvePostbackOptions({
    trackers: [
      {
        name: 'net',
        clickParams: ['cid'],
        maxClickIdLength: 10,
        postback: { url: 'https://tracker.example/pb?cid={click_id}' },
        ...options,
      },
    ],
  }).trackers.get('net')!;
}

const FORBIDDEN_CHARACTERS: [string, string][] = [
  ['NUL', 'ab\u0000cd'],
  ['a newline', 'ab\ncd'],
  ['a carriage return', 'ab\rcd'],
  ['a tab', 'ab\tcd'],
  ['DEL', 'ab\u007fcd'],
  ['a C1 control', 'ab\u0085cd'],
  ['a right-to-left override', 'ab\u202ecd'],
  ['a left-to-right embedding', '\u202aabcd'],
  ['a right-to-left isolate', 'ab\u2067cd'],
  ['a lone high surrogate', 'ab\ud800cd'],
  ['a lone low surrogate', 'ab\udc00cd'],
  // Every format character (Cf), not only the bidi overrides: each is invisible.
  ['a zero-width space', 'ab\u200bcd'],
  ['a zero-width non-joiner', 'ab\u200ccd'],
  ['a zero-width joiner', 'ab\u200dcd'],
  ['a byte order mark', '\ufeffabcd'],
  ['a left-to-right mark', 'ab\u200ecd'],
  ['a right-to-left mark', 'abcd\u200f'],
  ['an Arabic letter mark', 'ab\u061ccd'],
  ['a soft hyphen', 'ab\u00adcd'],
  ['a word joiner', 'ab\u2060cd'],
  ['a Mongolian vowel separator', 'ab\u180ecd'],
  ['a tag character (outside the BMP)', 'ab\u{e0041}cd'],
  ['a line separator', 'ab\u2028cd'],
  ['a paragraph separator', 'ab\u2029cd'],
];

/** What a refused character's message looks like: which character, of what kind, where. */
const NAMES_THE_CHARACTER =
  /^contains an? [a-z -]+.*, U\+[0-9A-F]{4,5}, at index \d+; it is refused, not removed$/;

describe('clickIdProblem', () => {
  const tracker = trackerOf();

  it.each([
    ['plain', 'abc-123_XY'],
    ['an ampersand and equals sign', 'a&b=c'],
    ['spaces', 'a b c'],
    ['unicode', 'Ünïcødé'],
    ['URL syntax', '#?/%20+'],
  ])('accepts %s', (_label, value) => {
    expect(clickIdProblem(value, tracker)).toBeUndefined();
  });

  it.each([
    ['an array', ['abc', 'def']],
    ['a number', 123],
    ['undefined', undefined],
    ['null', null],
    ['an object', { cid: 'abc' }],
  ])('refuses %s', (_label, value) => {
    expect(clickIdProblem(value, tracker)).toBe('must be a single string');
  });

  it('refuses an empty string', () => {
    expect(clickIdProblem('', tracker)).toBe('is empty');
  });

  it.each(FORBIDDEN_CHARACTERS)('refuses %s', (_label, value) => {
    expect(clickIdProblem(value, tracker)).toMatch(NAMES_THE_CHARACTER);
  });

  it('names the character, its kind and its index', () => {
    expect(clickIdProblem('ab\u200bcd', tracker)).toBe(
      'contains an invisible format character, U+200B, at index 2; it is refused, not removed',
    );
    expect(clickIdProblem('\u2028', tracker)).toMatch(/a line or paragraph separator, U\+2028, /);
    expect(clickIdProblem('a\u0000', tracker)).toMatch(/a control character, U\+0000, at index 1/);
    expect(clickIdProblem('a\ud800', tracker)).toMatch(/a lone surrogate .*, U\+D800, /);
    expect(clickIdProblem('\u{e0041}', tracker)).toMatch(/format character, U\+E0041, /);
  });

  it.each([
    ['a non-breaking space (a visible space, Zs)', 'ab\u00a0cd'],
    ['an emoji with a variation selector (Mn)', '\u2764\ufe0f'],
    ['combining marks, unnormalised', 'e\u0301'],
  ])('accepts %s, as it is', (_label, value) => {
    expect(clickIdProblem(value, tracker)).toBeUndefined();
  });

  it('counts the length in code points, not UTF-16 units', () => {
    const ten = '😀'.repeat(10);
    expect(ten.length).toBe(20);
    expect(clickIdProblem(ten, tracker)).toBeUndefined();
    expect(clickIdProblem('😀'.repeat(11), tracker)).toMatch(
      /is 11 characters long; tracker "net" accepts at most 10/,
    );
  });

  it('accepts exactly maxClickIdLength characters and refuses one more', () => {
    expect(clickIdProblem('a'.repeat(10), tracker)).toBeUndefined();
    expect(clickIdProblem('a'.repeat(11), tracker)).toMatch(/at most 10/);
  });

  describe('clickIdPattern', () => {
    it('refuses a value that does not match a string pattern', () => {
      const patterned = trackerOf({ clickIdPattern: '^[A-Za-z0-9_-]+$' });
      expect(clickIdProblem('abc_12-3', patterned)).toBeUndefined();
      expect(clickIdProblem('a&b', patterned)).toBe(
        `does not match tracker "net"'s clickIdPattern`,
      );
    });

    it('refuses a value that does not match a RegExp pattern', () => {
      const patterned = trackerOf({ clickIdPattern: /^[0-9]+$/ });
      expect(clickIdProblem('12345', patterned)).toBeUndefined();
      expect(clickIdProblem('12a45', patterned)).toMatch(/clickIdPattern/);
    });

    it('still refuses control characters a lax pattern would allow', () => {
      const lax = trackerOf({ clickIdPattern: '.*' });
      expect(clickIdProblem('ab\u0000', lax)).toMatch(NAMES_THE_CHARACTER);
      expect(clickIdProblem('ab\u200b', lax)).toMatch(NAMES_THE_CHARACTER);
    });

    it('gives the same answer on every call, even for a /g pattern', () => {
      const global = trackerOf({ clickIdPattern: /^[0-9]+$/g });
      expect(clickIdProblem('12345', global)).toBeUndefined();
      expect(clickIdProblem('12345', global)).toBeUndefined();
    });

    it('keeps the case-insensitive flag of a RegExp pattern', () => {
      const insensitive = trackerOf({ clickIdPattern: /^[a-f0-9]+$/i });
      expect(clickIdProblem('abc123', insensitive)).toBeUndefined();
      expect(clickIdProblem('ABC123', insensitive)).toBeUndefined();
    });
  });
});

describe('textProblem', () => {
  it.each(['order-1', 'a&b=c d', 'Ünïcødé', '😀'.repeat(5)])('accepts %p', (value) => {
    expect(textProblem(value, 5 * 2)).toBeUndefined();
  });

  it('refuses non-strings and empty text', () => {
    expect(textProblem(['a'], 10)).toBe('must be a string');
    expect(textProblem(12, 10)).toBe('must be a string');
    expect(textProblem(undefined, 10)).toEqual(expect.any(String));
    expect(textProblem(null, 10)).toEqual(expect.any(String));
    expect(textProblem('', 10)).toBe('is empty');
  });

  it.each(FORBIDDEN_CHARACTERS)('refuses %s', (_label, value) => {
    expect(textProblem(value, 100)).toMatch(NAMES_THE_CHARACTER);
  });

  it('counts code points against maxLength', () => {
    expect(textProblem('😀'.repeat(3), 3)).toBeUndefined();
    expect(textProblem('😀'.repeat(4), 3)).toBe('is longer than 3 characters');
  });
});
