import { InvalidInputError } from '../errors/invalid-input.error.js';
import {
  type EarlierReversal,
  type ReversedOrder,
  refuseOtherCurrency,
  reversalAmounts,
} from './reversal.calculator.js';

const order: ReversedOrder = {
  amount: '80.00',
  currency: 'EUR',
  commission: '8.00',
  commissionCurrency: 'EUR',
};

/** The InvalidInputError fields `run` throws with. */
function refusal(run: () => unknown): Record<string, string[]> {
  try {
    run();
  } catch (error) {
    if (error instanceof InvalidInputError) return error.fields;
    throw error;
  }
  throw new Error('not refused');
}

describe('reversalAmounts', () => {
  it('reverses the whole order, and its whole commission, without an amount', () => {
    expect(reversalAmounts(order, [], undefined)).toEqual({
      amount: '80.00',
      commission: { amount: '8.00', currency: 'EUR' },
    });
  });

  it('takes the commission back in proportion to a partial amount', () => {
    expect(reversalAmounts(order, [], '20')).toEqual({
      amount: '20.00',
      commission: { amount: '2.00', currency: 'EUR' },
    });
  });

  it('reverses what is left after earlier reversals', () => {
    const earlier: EarlierReversal[] = [{ amount: '20.00', commission: '2.00' }];
    expect(reversalAmounts(order, earlier, undefined)).toEqual({
      amount: '60.00',
      commission: { amount: '6.00', currency: 'EUR' },
    });
  });

  it('rounds cumulatively, so partial reversals add up to the commission exactly', () => {
    const small: ReversedOrder = { ...order, amount: '3.00', commission: '0.05' };
    const first = reversalAmounts(small, [], '1.50');
    expect(first.commission?.amount).toBe('0.03');
    const second = reversalAmounts(small, [{ amount: '1.50', commission: '0.03' }], '1.50');
    // 0.03 + 0.02, never 0.03 + 0.03
    expect(second.commission?.amount).toBe('0.02');
  });

  it('refuses more than what is left, saying how much is', () => {
    const earlier: EarlierReversal[] = [
      { amount: '20.00', commission: '2.00' },
      { amount: '30.00', commission: '3.00' },
    ];
    expect(refusal(() => reversalAmounts(order, earlier, '31.00'))).toEqual({
      amount: ['amount is more than what is left of the order to reverse (30.00)'],
    });
    expect(reversalAmounts(order, earlier, '30.00').amount).toBe('30.00');
  });

  it('refuses an order reversed in full', () => {
    expect(
      refusal(() => reversalAmounts(order, [{ amount: '80.00', commission: null }], undefined)),
    ).toEqual({ orderId: ['the order is already reversed in full'] });
  });

  it('has no commission to take back when the order earned none', () => {
    expect(
      reversalAmounts({ ...order, commission: null, commissionCurrency: null }, [], '10'),
    ).toEqual({ amount: '10.00' });
  });

  it('keeps the minor digits a withdrawn currency was stored with', () => {
    const hrk: ReversedOrder = {
      ...order,
      amount: '100.00',
      currency: 'HRK',
      commission: '7.50',
      commissionCurrency: 'HRK',
    };
    expect(reversalAmounts(hrk, [], undefined)).toEqual({
      amount: '100.00',
      commission: { amount: '7.50', currency: 'HRK' },
    });
  });

  it('rounds the commission in its own currency, apart from the order', () => {
    const yen: ReversedOrder = { ...order, commission: '801', commissionCurrency: 'JPY' };
    // 801 × 40 / 80 = 400.5 → 401 JPY
    expect(reversalAmounts(yen, [], '40.00').commission).toEqual({
      amount: '401',
      currency: 'JPY',
    });
  });
});

describe('refuseOtherCurrency', () => {
  it("accepts the order's currency or none", () => {
    expect(() => refuseOtherCurrency(order, 'EUR')).not.toThrow();
    expect(() => refuseOtherCurrency(order, undefined)).not.toThrow();
  });

  it('refuses another', () => {
    expect(refusal(() => refuseOtherCurrency(order, 'USD'))).toEqual({
      currency: ["currency must be the order's (EUR)"],
    });
  });
});
