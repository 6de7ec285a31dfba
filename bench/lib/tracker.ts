import type { TrackerOptions } from '../../src/interfaces/index.js';

export const TRACKER = 'bench';

/**
 * The one tracker every figure uses: click ID in `cid`, purchases posted with a 7.5 %
 * commission. No signing (HMAC would add a little CPU per send on both sides of nothing).
 */
export function benchTracker(receiverUrl: string): TrackerOptions {
  return {
    name: TRACKER,
    clickParams: ['cid'],
    postback: {
      url: `${receiverUrl}/postback?cid={click_id}&txid={order_id}&payout={payout}&currency={payout_currency}`,
    },
    events: ['purchase'],
    commission: { purchase: { percent: '7.5' } },
  };
}

/** The JSON of a purchase event, as the shop would post it. */
export const purchase = (prefix: string, n: number) => ({
  type: 'purchase',
  orderId: `${prefix}-${n}`,
  amount: '59.97',
  currency: 'EUR',
  clickId: `click-${prefix}-${n}`,
});
