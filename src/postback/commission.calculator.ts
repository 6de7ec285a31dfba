import { Big, toCurrencyString } from '../common/money.js';
import type { CommissionRule } from '../interfaces/index.js';

export interface Money {
  amount: string;
  currency: string;
}

/**
 * The commission a rule grants for an order, exact to the minor unit of its currency
 * (rounded half up once, at the end). Undefined when the rule needs an order amount and
 * the event has none.
 */
export function computeCommission(rule: CommissionRule, order: Partial<Money>): Money | undefined {
  if ('fixed' in rule) {
    const currency = rule.currency ?? order.currency;
    if (!currency) return undefined;
    return { amount: toCurrencyString(new Big(rule.fixed), currency), currency };
  }
  if (order.amount === undefined || !order.currency) return undefined;
  let commission = new Big(order.amount).times(rule.percent).div(100);
  if (rule.min !== undefined && commission.lt(rule.min)) commission = new Big(rule.min);
  if (rule.max !== undefined && commission.gt(rule.max)) commission = new Big(rule.max);
  return {
    amount: toCurrencyString(commission, order.currency),
    currency: order.currency,
  };
}
