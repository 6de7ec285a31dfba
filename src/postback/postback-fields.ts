/** Values frozen when the conversion is accepted; the template renders them at send time. */
export interface PostbackFields {
  clickId: string;
  eventType: string;
  conversionId: string;
  occurredAt: number;
  orderId?: string;
  customerId?: string;
  amount?: string;
  currency?: string;
  payout?: string;
  payoutCurrency?: string;
  sub?: Record<string, string>;
}
