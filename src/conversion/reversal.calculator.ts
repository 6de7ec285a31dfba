import { InvalidInputError } from '../errors/invalid-input.error.js';
import { Big, toStoredCurrencyString } from '../common/money.js';
import type { Money } from '../postback/commission.calculator.js';

/** The conversion a reversal undoes, as far as the arithmetic needs it. */
export interface ReversedOrder {
  amount: string;
  currency: string;
  commission: string | null;
  commissionCurrency: string | null;
}

/** A reversal of the same order recorded earlier. */
export interface EarlierReversal {
  amount: string | null;
  commission: string | null;
}

/** What a reversal takes back: its amount in the order's units, and its share of the commission. */
export interface ReversalAmounts {
  amount: string;
  commission?: Money;
}

/** Refuses a reversal in another currency than its order's (none given: the order's). */
export function refuseOtherCurrency(order: ReversedOrder, currency: string | undefined): void {
  if (currency !== undefined && currency !== order.currency) {
    throw new InvalidInputError({ currency: [`currency must be the order's (${order.currency})`] });
  }
}

/**
 * The amount and commission of a reversal of `order`, after the `earlier` ones: without a
 * `requested` amount, whatever is left of the order. Refused when nothing is left, or when
 * more than what is left is asked for. The commission goes back in proportion to the amount,
 * rounded cumulatively, so that partial reversals add up to the original's commission exactly.
 */
export function reversalAmounts(
  order: ReversedOrder,
  earlier: readonly EarlierReversal[],
  requested: string | undefined,
): ReversalAmounts {
  const reversed = earlier.reduce((sum, r) => sum.plus(r.amount ?? 0), new Big(0));
  const left = new Big(order.amount).minus(reversed);
  const inOrderUnits = (value: Big) => toStoredCurrencyString(value, order.currency, order.amount);
  if (left.lte(0)) {
    throw new InvalidInputError({ orderId: ['the order is already reversed in full'] });
  }
  const amount = requested !== undefined ? new Big(requested) : left;
  if (amount.gt(left)) {
    throw new InvalidInputError({
      amount: [`amount is more than what is left of the order to reverse (${inOrderUnits(left)})`],
    });
  }
  const result: ReversalAmounts = { amount: inOrderUnits(amount) };
  if (order.commission != null && order.commissionCurrency) {
    result.commission = commissionShare(order, earlier, reversed.plus(amount));
  }
  return result;
}

/** The commission to take back so that, with the earlier reversals', `upTo` of the order is. */
function commissionShare(
  order: ReversedOrder,
  earlier: readonly EarlierReversal[],
  upTo: Big,
): Money {
  const commission = order.commission as string;
  const currency = order.commissionCurrency as string;
  const inCommissionUnits = (value: Big) => toStoredCurrencyString(value, currency, commission);
  const already = earlier.reduce((sum, r) => sum.plus(r.commission ?? 0), new Big(0));
  const upToNow = new Big(commission).times(upTo).div(order.amount);
  return {
    amount: inCommissionUnits(new Big(inCommissionUnits(upToNow)).minus(already)),
    currency,
  };
}
