import { Big } from '../common/money.js';
import { computeCommission } from './commission.calculator.js';

describe('computeCommission', () => {
  describe('percent rules', () => {
    it('computes 7.5 % of 19.99 × 3 exactly, rounding once at the end', () => {
      const orderAmount = new Big('19.99').times(3);
      expect(orderAmount.toFixed(2)).toBe('59.97');

      const exact = orderAmount.times('7.5').div(100);
      expect(exact.toString()).toBe('4.49775');
      // Float arithmetic only looks right: its product lies below the exact 4.49775, so a
      // rounding of the float (here to 4 places) goes the wrong way.
      const float = 19.99 * 3 * 0.075;
      expect(float.toFixed(20)).not.toBe(exact.toFixed(20));
      expect(float.toFixed(4)).toBe('4.4977');
      expect(exact.round(4, Big.roundHalfUp).toFixed(4)).toBe('4.4978');

      expect(
        computeCommission({ percent: '7.5' }, { amount: orderAmount.toFixed(2), currency: 'EUR' }),
      ).toEqual({ amount: '4.50', currency: 'EUR' });
    });

    it('rounds half up', () => {
      // 0.125 → 0.13, 0.124 → 0.12
      expect(
        computeCommission({ percent: '12.5' }, { amount: '1.00', currency: 'EUR' })?.amount,
      ).toBe('0.13');
      expect(
        computeCommission({ percent: '12.4' }, { amount: '1.00', currency: 'EUR' })?.amount,
      ).toBe('0.12');
    });

    it('raises a commission below min to min', () => {
      expect(
        computeCommission({ percent: '5', min: '2.00' }, { amount: '10.00', currency: 'EUR' }),
      ).toEqual({ amount: '2.00', currency: 'EUR' });
    });

    it('lowers a commission above max to max', () => {
      expect(
        computeCommission({ percent: '5', max: '20' }, { amount: '1000.00', currency: 'EUR' }),
      ).toEqual({ amount: '20.00', currency: 'EUR' });
    });

    it('leaves a commission between min and max alone', () => {
      expect(
        computeCommission(
          { percent: '5', min: '1', max: '20' },
          { amount: '100.00', currency: 'EUR' },
        ),
      ).toEqual({ amount: '5.00', currency: 'EUR' });
    });

    it('rounds to whole yen (0 decimals)', () => {
      // 999 × 7.5 % = 74.925 → 75
      expect(computeCommission({ percent: '7.5' }, { amount: '999', currency: 'JPY' })).toEqual({
        amount: '75',
        currency: 'JPY',
      });
      // 1234 × 10 % = 123.4 → 123
      expect(
        computeCommission({ percent: '10' }, { amount: '1234', currency: 'JPY' })?.amount,
      ).toBe('123');
    });

    it('rounds to three decimals for BHD', () => {
      // 12.345 × 10 % = 1.2345 → 1.235
      expect(computeCommission({ percent: '10' }, { amount: '12.345', currency: 'BHD' })).toEqual({
        amount: '1.235',
        currency: 'BHD',
      });
      // 10 × 5 % = 0.5 → 0.500 (every minor digit printed)
      expect(computeCommission({ percent: '5' }, { amount: '10', currency: 'BHD' })?.amount).toBe(
        '0.500',
      );
    });

    it('is undefined without an order amount or currency', () => {
      expect(computeCommission({ percent: '7.5' }, { currency: 'EUR' })).toBeUndefined();
      expect(computeCommission({ percent: '7.5' }, { amount: '10.00' })).toBeUndefined();
    });

    it('gives 0.00 on a zero amount', () => {
      expect(computeCommission({ percent: '7.5' }, { amount: '0', currency: 'EUR' })).toEqual({
        amount: '0.00',
        currency: 'EUR',
      });
    });
  });

  describe('fixed rules', () => {
    it('uses its own currency, whatever the order', () => {
      expect(
        computeCommission({ fixed: '2', currency: 'USD' }, { amount: '59.97', currency: 'EUR' }),
      ).toEqual({ amount: '2.00', currency: 'USD' });
    });

    it('falls back to the order currency, and needs no amount', () => {
      expect(computeCommission({ fixed: '3.5' }, { currency: 'EUR' })).toEqual({
        amount: '3.50',
        currency: 'EUR',
      });
    });

    it('prints the minor unit of its currency', () => {
      expect(computeCommission({ fixed: '500', currency: 'JPY' }, {})).toEqual({
        amount: '500',
        currency: 'JPY',
      });
      expect(computeCommission({ fixed: '1.5', currency: 'BHD' }, {})?.amount).toBe('1.500');
    });

    it('is undefined when no currency is known', () => {
      expect(computeCommission({ fixed: '2.00' }, { amount: '10.00' })).toBeUndefined();
    });
  });
});
