import { IsISO8601, IsOptional, IsString, Matches, ValidateIf } from 'class-validator';

import { IsAmount, IsCurrencyCode, IsSafeText } from '../../common/validators.js';
import { EVENT_TYPE_PATTERN } from '../../common/event-types.js';
import { CLICK_ID_COLUMN_LENGTH, REFERENCE_MAX_LENGTH } from '../../postback.constants.js';

/**
 * A shop event as the agent's `POST /v1/events` and `ConversionService.record()` accept it.
 * The same class validates both, so the HTTP API and the in-process API refuse the same input
 * with the same messages.
 *
 * @publicApi
 */
export class ConversionEventDto {
  /** `purchase`, `registration`, or a custom type such as `lead` or `subscription.renewed`. */
  @IsString()
  @Matches(EVENT_TYPE_PATTERN, {
    message: 'type must be lowercase letters, digits, ".", "_" or "-", starting with a letter',
  })
  type: string;

  /**
   * Required for purchases and custom events: the idempotency key of the event. For a refund,
   * chargeback or cancellation: the original order.
   */
  @ValidateIf((e: ConversionEventDto) => e.type !== 'registration' || e.orderId !== undefined)
  @IsSafeText(REFERENCE_MAX_LENGTH)
  orderId?: string;

  /** Required for registrations; links the visitor's click to the customer for later purchases. */
  @ValidateIf((e: ConversionEventDto) => e.type === 'registration' || e.customerId !== undefined)
  @IsSafeText(REFERENCE_MAX_LENGTH)
  customerId?: string;

  /**
   * Order amount, required for purchases: a decimal string ("59.97") or a JSON number. For a
   * reversal: the amount refunded (a partial refund); leave out for the whole order.
   */
  @ValidateIf((e: ConversionEventDto) => e.type === 'purchase' || e.amount !== undefined)
  @IsAmount('currency')
  amount?: string | number;

  @ValidateIf((e: ConversionEventDto) => e.amount !== undefined || e.currency !== undefined)
  @IsCurrencyCode()
  currency?: string;

  /**
   * Tells several partial refunds (or chargebacks) of one order apart; each is recorded and
   * reported once. Leave out for a single reversal of the order.
   */
  @IsOptional()
  @IsSafeText(REFERENCE_MAX_LENGTH)
  reversalId?: string;

  /** When the event happened (ISO 8601 with a time zone, e.g. `2026-11-25T10:00:00Z`). @default now */
  @IsOptional()
  @IsISO8601({ strict: true })
  // Without an offset the time would be read in the server's zone: a silent shift of hours.
  @Matches(/(Z|[+-]\d{2}:?\d{2})$/i, { message: 'occurredAt needs a time zone: Z or ±hh:mm' })
  occurredAt?: string;

  /** The click ID, when the shop kept it itself; it beats session and customer. */
  @IsOptional()
  @IsSafeText(CLICK_ID_COLUMN_LENGTH)
  clickId?: string;

  /** The tracker of `clickId`, when several trackers could have issued it. */
  @IsOptional()
  @IsString()
  @Matches(/^[a-z0-9_-]{1,64}$/, { message: 'tracker must be a configured tracker name' })
  tracker?: string;

  /** The visitor's session ID or visitor key, as given when the click was captured. */
  @IsOptional()
  @IsSafeText(1024)
  sessionKey?: string;
}
