/** Macros every tracker can use; `sub.<param>`, static values and `token` come on top. */
export const BUILT_IN_MACROS = [
  'click_id',
  'payout',
  'payout_currency',
  'amount',
  'currency',
  'order_id',
  'customer_id',
  'event_type',
  'conversion_id',
  'event_id',
  'timestamp',
  'occurred_at',
  'amount_minor',
  'payout_minor',
] as const;
