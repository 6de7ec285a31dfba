import { Big, currencyDigits } from './money.js';

/**
 * How a receiver counts an amount in minor units, which is its own rule, not always ISO 4217's:
 * - `iso4217`: 10^exponent of the currency (59.97 EUR is 5997, 1.005 BHD 1005, 1437 JPY 1437);
 * - `dub`: Dub's, every currency in hundredths except Dub's zero-decimal list, taken as whole
 *   units. So 1.005 BHD is 100.5 (ISO's exponent is 3), 1000 ISK 100000 (ISO's is 0) and
 *   100.50 MGA 100.5 (ISO's is 2, Dub's list has MGA).
 */
export const MINOR_UNIT_RULES = ['iso4217', 'dub'] as const;
export type MinorUnitRule = (typeof MINOR_UNIT_RULES)[number];

/**
 * Dub's zero-decimal currencies: `isZeroDecimalCurrency` in github.com/dubinc/dub
 * `packages/utils/src/functions/currency-zero-decimal.ts` (last changed in PR #3090,
 * 2025-11-11; read at 1de955f, 2026-08-21). `/track/sale` takes `amount` "in cents (for all
 * two-decimal currencies)" or "the full integer value" for these, and its currency conversion
 * (`apps/web/lib/analytics/convert-currency.ts`) divides every other currency by 100.
 */
const DUB_ZERO_DECIMAL = new Set([
  'BIF',
  'CLP',
  'DJF',
  'GNF',
  'JPY',
  'KMF',
  'KRW',
  'MGA',
  'PYG',
  'RWF',
  'UGX',
  'VND',
  'VUV',
  'XAF',
  'XOF',
  'XPF',
]);

/** The power of ten a receiver with this rule multiplies an amount of this currency by. */
export function receiverExponent(rule: MinorUnitRule, currency: string): number {
  if (rule === 'dub') return DUB_ZERO_DECIMAL.has(currency) ? 0 : 2;
  return currencyDigits(currency);
}

/**
 * An amount in a receiver's minor units, as an integer string. Exact whenever the receiver's
 * unit is no larger than ISO's; where it is (1.005 BHD to Dub, which counts BHD in hundredths),
 * the amount cannot be written exactly and is rounded half up to the receiver's unit (101),
 * the rule `toCurrencyString` applies to commissions: off by less than half of the smallest
 * amount the receiver can record, rather than a sale the receiver refuses or never hears of.
 */
export function toMinorUnits(amount: string, currency: string, rule: MinorUnitRule): string {
  return new Big(amount)
    .times(new Big(10).pow(receiverExponent(rule, currency)))
    .round(0, Big.roundHalfUp)
    .toFixed(0);
}
