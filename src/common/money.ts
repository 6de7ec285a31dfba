import Big from 'big.js';

import { ISO_4217_MINOR_UNITS } from './iso-4217.js';

// Every money value in the module is a decimal string; big.js does the arithmetic, because
// binary floats cannot hold most decimal fractions (0.1 + 0.2 is 0.30000000000000004) and a
// commission computed through them can round to the wrong cent.
const DECIMAL = /^\d{1,15}(\.\d{1,8})?$/;
const CURRENCY = /^[A-Z]{3}$/;

/**
 * Digits after the decimal point of a currency's minor unit (2 for EUR, 0 for JPY, 3 for BHD),
 * from the ISO 4217 table the module ships, never from the host's ICU. Throws for a code that
 * table lacks: every caller has validated the code first.
 */
export function currencyDigits(currency: string): number {
  const digits = ISO_4217_MINOR_UNITS.get(currency);
  if (digits === undefined) {
    throw new Error(`${currency} is not an active ISO 4217 currency with a minor unit`);
  }
  return digits;
}

/** An active ISO 4217 code in capitals, from the module's own table (`iso-4217.ts`). */
export function isCurrencyCode(value: string): boolean {
  return CURRENCY.test(value) && ISO_4217_MINOR_UNITS.has(value);
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
  // An unknown currency is its own problem, reported where the currency is checked.
  const digits = ISO_4217_MINOR_UNITS.get(currency);
  if (digits === undefined) return undefined;
  const fraction = amount.split('.')[1] ?? '';
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

/**
 * `toCurrencyString` in the units of an amount stored earlier (`stored`): a currency since
 * withdrawn from ISO 4217 (HRK, SLL, ZWL), accepted by an earlier version, keeps the minor
 * digits its amounts were stored with, so the order can still be refunded.
 */
export function toStoredCurrencyString(value: Big, currency: string, stored: string): string {
  const digits = ISO_4217_MINOR_UNITS.get(currency) ?? (stored.split('.')[1] ?? '').length;
  return value.round(digits, Big.roundHalfUp).toFixed(digits);
}

export { Big };
