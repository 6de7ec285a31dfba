/**
 * A pattern matching a secret in any form a receiver may echo it back in. Each character
 * matches any of its own forms (raw; percent-encoded, once or twice, `+` for a space; JSON
 * escapes, once or twice; HTML references, `&amp;` included), not a list of whole encodings,
 * which would miss a body that encodes some characters and not others. Case is ignored: hex
 * digits and entity names come in both, and a case variant is no less worth hiding.
 */
export function secretPattern(secrets: string[]): RegExp | undefined {
  const sources = [...new Set(secrets)]
    .filter((secret) => secret.length > 0)
    // Longest first: where one secret contains another, the whole of the longer one goes.
    .sort((a, b) => b.length - a.length)
    .map((secret) => Array.from(secret, characterForms).join(''));
  return sources.length > 0 ? new RegExp(sources.join('|'), 'gi') : undefined;
}

/** The longest text one character of a secret can match (`&amp;#x000000` + 6 digits + `;`). */
export const LONGEST_CHARACTER_FORM = 24;

const PERCENT = String.raw`(?:%|%25)`;
const BACKSLASH = String.raw`\\{1,2}`;
const AMPERSAND = String.raw`(?:&|&amp;)`;
const LEADING_ZEROS = '0{0,6}';

/** JSON's two-character escapes. */
const JSON_SHORT: Record<string, string> = {
  '"': '"',
  '\\': '\\',
  '/': '/',
  '\b': 'b',
  '\f': 'f',
  '\n': 'n',
  '\r': 'r',
  '\t': 't',
};

/** HTML's named references of ASCII characters (the full table is 2,000 names of symbols). */
const HTML_NAMES: Record<string, string[]> = {
  '!': ['excl'],
  '"': ['quot'],
  '#': ['num'],
  $: ['dollar'],
  '%': ['percnt'],
  '&': ['amp'],
  "'": ['apos'],
  '(': ['lpar'],
  ')': ['rpar'],
  '*': ['ast', 'midast'],
  '+': ['plus'],
  ',': ['comma'],
  '.': ['period'],
  '/': ['sol'],
  ':': ['colon'],
  ';': ['semi'],
  '<': ['lt'],
  '=': ['equals'],
  '>': ['gt'],
  '?': ['quest'],
  '@': ['commat'],
  '[': ['lsqb', 'lbrack'],
  '\\': ['bsol'],
  ']': ['rsqb', 'rbrack'],
  '^': ['Hat'],
  _: ['lowbar', 'UnderBar'],
  '`': ['grave', 'DiacriticalGrave'],
  '{': ['lcub', 'lbrace'],
  '|': ['verbar', 'vert', 'VerticalLine'],
  '}': ['rcub', 'rbrace'],
  '\n': ['NewLine'],
  '\t': ['Tab'],
};
/** Names HTML also reads without their semicolon. */
const LEGACY_NAMES = new Set(['amp', 'lt', 'gt', 'quot']);

function characterForms(character: string): string {
  const code = character.codePointAt(0) as number;
  const forms = [escapeRegExp(character)];
  forms.push(Array.from(Buffer.from(character, 'utf8'), (byte) => PERCENT + hex(byte, 2)).join(''));
  if (character === ' ') forms.push(String.raw`\+`);
  const units =
    code > 0xffff ? [character.charCodeAt(0), character.charCodeAt(1)] : [character.charCodeAt(0)];
  forms.push(units.map((unit) => `${BACKSLASH}u${hex(unit, 4)}`).join(''));
  if (JSON_SHORT[character]) forms.push(BACKSLASH + escapeRegExp(JSON_SHORT[character]));
  forms.push(`${AMPERSAND}#${LEADING_ZEROS}${code};?`);
  forms.push(`${AMPERSAND}#x${LEADING_ZEROS}${code.toString(16)};?`);
  for (const name of HTML_NAMES[character] ?? []) {
    forms.push(`${AMPERSAND}${name}${LEGACY_NAMES.has(name) ? ';?' : ';'}`);
  }
  return `(?:${forms.join('|')})`;
}

function hex(value: number, digits: number): string {
  return value.toString(16).padStart(digits, '0');
}

function escapeRegExp(text: string): string {
  return text.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&');
}
