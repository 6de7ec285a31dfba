import Big from 'big.js';

// Every money value in the module is a decimal string; big.js does the arithmetic, because
// binary floats cannot hold most decimal fractions (0.1 + 0.2 is 0.30000000000000004) and a
// commission computed through them can round to the wrong cent.
const DECIMAL = /^\d{1,15}(\.\d{1,8})?$/;
const CURRENCY = /^[A-Z]{3}$/;

// The ISO 4217 codes this Node.js build knows (Intl itself would format any three letters).
const KNOWN_CURRENCIES = new Set(Intl.supportedValuesOf('currency'));

// Building an Intl.NumberFormat costs tens of microseconds, and every amount of every event
// needs its currency's digits (validation, normalisation, commission) several times. Only
// known codes are kept, so the cache cannot grow with what callers send.
const DIGITS = new Map<string, number>();

/** Digits after the decimal point of a currency's minor unit (2 for EUR, 0 for JPY, 3 for BHD). */
export function currencyDigits(currency: string): number {
  let digits = DIGITS.get(currency);
  if (digits === undefined) {
    digits = new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions()
      .maximumFractionDigits as number;
    if (KNOWN_CURRENCIES.has(currency)) DIGITS.set(currency, digits);
  }
  return digits;
}

export function isCurrencyCode(value: string): boolean {
  return CURRENCY.test(value) && KNOWN_CURRENCIES.has(value);
}

/** A non-negative decimal string of at most 15 integer and 8 fraction digits. */
export function isDecimalString(value: string): boolean {
  return DECIMAL.test(value);
}

/**
 * Why an amount is not a valid amount of this currency, or undefined when it is: the
 * currency's minor unit bounds the fraction digits, so `19.999 EUR` is refused rather than
 * silently rounded.
 */
export function amountProblem(amount: string, currency: string): string | undefined {
  if (!isDecimalString(amount)) {
    return 'must be a non-negative decimal string such as "19.99"';
  }
  const fraction = amount.split('.')[1] ?? '';
  const digits = currencyDigits(currency);
  if (fraction.replace(/0+$/, '').length > digits) {
    return `has more decimals than ${currency} allows (${digits})`;
  }
  return undefined;
}

/** Rounds half up to the currency's minor unit and prints every minor digit ("4.50", "500"). */
export function toCurrencyString(value: Big, currency: string): string {
  const digits = currencyDigits(currency);
  return value.round(digits, Big.roundHalfUp).toFixed(digits);
}

export { Big };
