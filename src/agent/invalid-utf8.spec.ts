import { isUtf8 } from 'node:buffer';

import { fieldAt, firstInvalidByte, invalidUtf8Fields } from './invalid-utf8.js';

const bytes = (...parts: (string | number[])[]) =>
  Buffer.concat(
    parts.map((part) => (typeof part === 'string' ? Buffer.from(part) : Buffer.from(part))),
  );

describe('firstInvalidByte', () => {
  it('finds nothing in valid UTF-8, multi-byte characters included', () => {
    expect(firstInvalidByte(Buffer.from('abc é € 😀 \u{10ffff}'))).toBe(-1);
  });

  it.each<[string, number[]]>([
    ['a lone continuation byte', [0x80]],
    ['0xFF', [0xff]],
    ['an overlong slash', [0xc0, 0xaf]],
    ['an overlong three-byte form', [0xe0, 0x80, 0xaf]],
    ['an encoded surrogate', [0xed, 0xa0, 0x80]],
    ['a code point past U+10FFFF', [0xf4, 0x90, 0x80, 0x80]],
    ['a truncated sequence at the end', [0xe2, 0x82]],
    ['a truncated sequence before ASCII', [0xe2, 0x41, 0x42]],
  ])('finds %s where it starts, as Node does', (_label, bad) => {
    const buffer = bytes('ab€', bad, 'z');
    expect(isUtf8(buffer)).toBe(false);
    expect(firstInvalidByte(buffer)).toBe(5);
  });

  it('agrees with Node on every 1- and 2-byte input and the edges of longer ones', () => {
    const agrees = (...b: number[]) => {
      const buffer = Buffer.from(b);
      return (firstInvalidByte(buffer) === -1) === isUtf8(buffer);
    };
    for (let a = 0; a < 256; a++) {
      expect(agrees(a)).toBe(true);
      for (let b = 0; b < 256; b++) {
        if (!agrees(a, b)) throw new Error(`disagrees on ${a.toString(16)} ${b.toString(16)}`);
        for (const c of [0x41, 0x80, 0xbf, 0xc0]) {
          if (a >= 0xe0 && !agrees(a, b, c)) throw new Error(`disagrees on ${[a, b, c]}`);
          if (a >= 0xf0 && !agrees(a, b, 0x80, c)) throw new Error(`disagrees on ${[a, b, c]}`);
        }
      }
    }
  });
});

describe('fieldAt', () => {
  it.each([
    ['{"orderId": "O-', 'orderId', false],
    ['{"type": "purchase", "orderId": "O-', 'orderId', false],
    ['{"a\\"b": "x', 'a"b', false],
    ['{"note": "a \\" , { [ ", "orderId": "', 'orderId', false],
    ['{"subParams": {"sub1": "x", "sub2": "', 'subParams.sub2', false],
    ['{"ids": ["a", "b", "', 'ids.2', false],
    ['{"subParams": {"', 'subParams', true],
    ['{"type": "x", "', undefined, true],
    ['"', undefined, false],
  ])('%s ends in %s', (text, field, inName) => {
    expect(fieldAt(text)).toEqual({ ...(field !== undefined && { field }), inName });
  });
});

describe('invalidUtf8Fields', () => {
  it('names the field holding the bad bytes, and where they are', () => {
    expect(invalidUtf8Fields(bytes('{"type":"purchase","orderId":"O-', [0xff], '"}'))).toEqual({
      orderId: [
        'orderId is not valid UTF-8 (byte 32 of the body, 0xff); send text as UTF-8: bytes that do not decode are refused, not replaced',
      ],
    });
  });

  it('names the body for a bad field name', () => {
    const fields = invalidUtf8Fields(bytes('{"type":"purchase","', [0xc3], '":"x"}'));
    expect(Object.keys(fields)).toEqual(['body']);
    expect(fields.body[0]).toMatch(/^the body has a field name that is not valid UTF-8/);
  });
});
