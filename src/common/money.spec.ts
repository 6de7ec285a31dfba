import { jest } from '@jest/globals';

import {
  amountProblem,
  Big,
  currencyDigits,
  isCurrencyCode,
  isDecimalString,
  toCurrencyString,
} from './money.js';

describe('currencyDigits', () => {
  it.each([
    ['EUR', 2],
    ['USD', 2],
    ['JPY', 0],
    ['BHD', 3],
    // ISO 4217's exponents where the host's ICU (CLDR display digits) says otherwise
    ['HUF', 2],
    ['IDR', 2],
    ['COP', 2],
    ['PKR', 2],
    ['MGA', 2],
    ['IQD', 3],
    ['CLF', 4],
    ['UYW', 4],
    ['ISK', 0],
  ])('%s has %i minor digits', (currency, digits) => {
    expect(currencyDigits(currency)).toBe(digits);
  });

  it('throws for a code the ISO 4217 table lacks, rather than guessing', () => {
    expect(() => currencyDigits('XAU')).toThrow(/XAU is not an active ISO 4217 currency/);
  });

  it("takes nothing from the runtime's ICU data", () => {
    const numberFormat = jest.spyOn(Intl, 'NumberFormat');
    const supported = jest.spyOn(Intl, 'supportedValuesOf');
    try {
      expect(currencyDigits('KWD')).toBe(3);
      expect(isCurrencyCode('KWD')).toBe(true);
      expect(numberFormat).not.toHaveBeenCalled();
      expect(supported).not.toHaveBeenCalled();
    } finally {
      numberFormat.mockRestore();
      supported.mockRestore();
    }
  });
});

describe('isCurrencyCode', () => {
  it('accepts an ISO 4217 code in capitals', () => {
    expect(isCurrencyCode('EUR')).toBe(true);
    expect(isCurrencyCode('JPY')).toBe(true);
  });

  it.each(['eur', 'Eur', 'ZZZ', 'EU', 'EURO', '', ' EUR'])('refuses %p', (code) => {
    expect(isCurrencyCode(code)).toBe(false);
  });

  // The active list (SIX, 2024-06-25, plus XCG), not what the host's ICU happens to know.
  it.each(['XCG', 'ZWG', 'VED', 'CLF', 'UYW', 'BOV', 'CHE'])(
    'accepts the active code %s',
    (code) => {
      expect(isCurrencyCode(code)).toBe(true);
    },
  );

  it.each([
    ['HRK', 'withdrawn 2023 (the euro)'],
    ['SLL', 'withdrawn (SLE)'],
    ['ZWL', 'withdrawn 2024 (ZWG)'],
    ['XAU', 'gold: no minor unit'],
    ['XXX', 'no currency'],
    ['XDR', 'no minor unit'],
  ])('refuses %s, %s', (code) => {
    expect(isCurrencyCode(code)).toBe(false);
  });
});

describe('isDecimalString', () => {
  it.each(['0', '19.99', '19.90', '123456789012345.12345678'])('accepts %p', (value) => {
    expect(isDecimalString(value)).toBe(true);
  });

  it.each([
    '-1',
    '1e5',
    'abc',
    '',
    '.5',
    '5.',
    '1,5',
    ' 1',
    '1234567890123456',
    '1.123456789',
    'NaN',
  ])('refuses %p', (value) => {
    expect(isDecimalString(value)).toBe(false);
  });
});

describe('amountProblem', () => {
  it.each([
    ['19.90', 'EUR'],
    ['19.99', 'EUR'],
    ['19.990', 'EUR'],
    ['1500', 'JPY'],
    ['1.0', 'JPY'],
    ['1.234', 'BHD'],
    ['1990.50', 'HUF'],
    ['1000.005', 'IQD'],
  ])('accepts %p %s', (amount, currency) => {
    expect(amountProblem(amount, currency)).toBeUndefined();
  });

  it('leaves an unknown currency to its own check', () => {
    expect(amountProblem('19.999', 'XAU')).toBeUndefined();
    expect(amountProblem('abc', 'XAU')).toMatch(/non-negative decimal string/);
  });

  it.each(['-1', '-19.99', '1e5', 'abc', ''])('refuses the junk %p', (amount) => {
    expect(amountProblem(amount, 'EUR')).toMatch(/non-negative decimal string/);
  });

  it.each([
    ['19.999', 'EUR', /more decimals than EUR allows \(2\)/],
    ['1.5', 'JPY', /more decimals than JPY allows \(0\)/],
    ['1.50', 'JPY', /more decimals than JPY allows/],
    ['1.2345', 'BHD', /more decimals than BHD allows \(3\)/],
    ['1.5', 'ISK', /more decimals than ISK allows \(0\)/],
  ])('refuses %p %s for its decimals instead of rounding', (amount, currency, message) => {
    expect(amountProblem(amount, currency)).toMatch(message);
  });
});

describe('toCurrencyString', () => {
  it('rounds half up to the minor unit and prints every minor digit', () => {
    expect(toCurrencyString(new Big('4.49775'), 'EUR')).toBe('4.50');
    expect(toCurrencyString(new Big('4.494'), 'EUR')).toBe('4.49');
    expect(toCurrencyString(new Big('4'), 'EUR')).toBe('4.00');
    expect(toCurrencyString(new Big('74.5'), 'JPY')).toBe('75');
    expect(toCurrencyString(new Big('1.2345'), 'BHD')).toBe('1.235');
  });
});
