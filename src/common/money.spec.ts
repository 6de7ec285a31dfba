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
  ])('%s has %i minor digits', (currency, digits) => {
    expect(currencyDigits(currency)).toBe(digits);
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
  ])('accepts %p %s', (amount, currency) => {
    expect(amountProblem(amount, currency)).toBeUndefined();
  });

  it.each(['-1', '-19.99', '1e5', 'abc', ''])('refuses the junk %p', (amount) => {
    expect(amountProblem(amount, 'EUR')).toMatch(/non-negative decimal string/);
  });

  it.each([
    ['19.999', 'EUR', /more decimals than EUR allows \(2\)/],
    ['1.5', 'JPY', /more decimals than JPY allows \(0\)/],
    ['1.50', 'JPY', /more decimals than JPY allows/],
    ['1.2345', 'BHD', /more decimals than BHD allows \(3\)/],
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
