import { resolvePostbackOptions } from '../options/resolve-options.js';
import { secretRedactor } from './secret-redactor.js';

const TOKEN = 'TOPSECRET tok/+=&é"<1';

const tracker = resolvePostbackOptions({
  trackers: [
    {
      name: 'net',
      clickParams: ['cid'],
      postback: { url: 'https://tracker.example/pb?cid={click_id}' },
      signing: { type: 'token', param: 'security_token', secret: TOKEN },
    },
  ],
}).trackers.get('net')!;
const { redact, excerpt } = secretRedactor(tracker);

const everyByte = (text: string, hex: (byte: number) => string) =>
  Array.from(Buffer.from(text, 'utf8'), (byte) => `%${hex(byte)}`).join('');
const everyUnit = (text: string, format: (unit: number) => string) =>
  Array.from({ length: text.length }, (_, i) => format(text.charCodeAt(i))).join('');
const hex2 = (n: number) => n.toString(16).padStart(2, '0');
const hex4 = (n: number) => n.toString(16).padStart(4, '0');

/** Every form a receiver was seen, or could be expected, to echo a token back in. */
const FORMS: Array<[string, string]> = [
  ['raw', TOKEN],
  ['percent-encoded', encodeURIComponent(TOKEN)],
  [
    'percent-encoded, lower-case hex',
    encodeURIComponent(TOKEN).replace(/%../g, (e) => e.toLowerCase()),
  ],
  ['every byte percent-encoded', everyByte(TOKEN, (b) => hex2(b).toUpperCase())],
  ['every byte percent-encoded, lower case', everyByte(TOKEN, hex2)],
  ['percent-encoded twice', encodeURIComponent(encodeURIComponent(TOKEN))],
  ['form-encoded', new URLSearchParams({ s: TOKEN }).toString().slice(2)],
  ['JSON', JSON.stringify(TOKEN).slice(1, -1)],
  ['JSON with \\/', JSON.stringify(TOKEN).slice(1, -1).replace(/\//g, '\\/')],
  ['JSON \\u for every character', everyUnit(TOKEN, (u) => `\\u${hex4(u).toUpperCase()}`)],
  ['JSON \\u, lower case', everyUnit(TOKEN, (u) => `\\u${hex4(u)}`)],
  [
    'JSON inside JSON',
    // A JSON string holding JSON, which escapes the backslashes of the inner escapes.
    JSON.stringify(everyUnit(TOKEN, (u) => `\\u${hex4(u)}`)).slice(1, -1),
  ],
  [
    'HTML named',
    TOKEN.replace(/&/g, '&amp;')
      .replace(/"/g, '&quot;')
      .replace(/</g, '&lt;')
      .replace(/\//g, '&sol;')
      .replace(/\+/g, '&plus;')
      .replace(/=/g, '&equals;'),
  ],
  ['HTML decimal', everyUnit(TOKEN, (u) => `&#${u};`)],
  ['HTML hex', everyUnit(TOKEN, (u) => `&#x${u.toString(16)};`)],
  ['HTML hex, upper case, zero-padded', everyUnit(TOKEN, (u) => `&#X${hex4(u).toUpperCase()};`)],
  [
    'HTML inside HTML',
    TOKEN.replace(/&/g, '&amp;amp;').replace(/</g, '&amp;#60;').replace(/"/g, '&amp;quot;'),
  ],
  ['mixed', `TOP${encodeURIComponent('SECRET ')}tok&#47;\\u002b=&amp;%C3%a9\\"&lt;1`],
];

describe('secretRedactor', () => {
  it.each(FORMS)('replaces the secret echoed %s, and nothing around it', (_, form) => {
    expect(redact(`you sent security_token=${form}; thanks`)).toBe(
      'you sent security_token=[redacted]; thanks',
    );
  });

  it('leaves a text without the secret exactly as it was', () => {
    const text = 'TOPSECRET tok, %2F &amp; \\u0041 &#47; almost: TOPSECRET tok/+=&é"<2';
    expect(redact(text)).toBe(text);
    expect(excerpt({ body: text }, 20)).toBe(text.slice(0, 20));
  });

  it('redacts before cutting the excerpt: a secret straddling the cut goes whole', () => {
    for (const [, form] of FORMS) {
      const body = `${'x'.repeat(10)}${form} and more`;
      // Cut 17 characters into the secret, as the attempt log once kept it.
      expect(excerpt({ body }, 27)).toBe(`${'x'.repeat(10)}[redacted]`);
      expect(excerpt({ body }, 1000)).toBe(`${'x'.repeat(10)}[redacted] and more`);
    }
  });

  it('drops the end of a body cut short unread, where a secret may have begun', () => {
    const body = `ok ${'y'.repeat(3000)} ${encodeURIComponent(TOKEN).slice(0, 17)}`;
    const kept = excerpt({ body, bodyCutShort: true }, 10_000)!;
    expect(body.startsWith(kept)).toBe(true);
    expect(kept).not.toContain('TOPSECRET');
    // A body read to its end keeps its end: a prefix alone is not the secret.
    expect(excerpt({ body }, 10_000)).toBe(body);
  });

  it('has no excerpt without a body', () => {
    expect(excerpt(undefined, 100)).toBeNull();
    expect(excerpt({}, 100)).toBeNull();
  });
});

describe('secretRedactor, a secret beyond the BMP', () => {
  const secret = 'key😀end-0123456789';
  const { redact } = secretRedactor(
    resolvePostbackOptions({
      trackers: [
        {
          name: 'api',
          clickParams: ['cid'],
          postback: {
            url: 'https://api.example/conversions',
            method: 'POST',
            body: { c: '{click_id}' },
          },
          signing: { type: 'bearer', secret },
        },
      ],
    }).trackers.get('api')!,
  );

  it.each([
    ['JSON surrogate pair', secret.replace('😀', '\\ud83d\\ude00')],
    ['HTML decimal code point', secret.replace('😀', '&#128512;')],
    ['HTML hex code point', secret.replace('😀', '&#x1F600;')],
    ['percent-encoded UTF-8', encodeURIComponent(secret)],
  ])('%s', (_, form) => {
    expect(redact(`[${form}]`)).toBe('[[redacted]]');
  });
});
