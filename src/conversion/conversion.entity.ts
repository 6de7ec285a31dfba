import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

import { CLICK_ID_COLUMN_LENGTH, REFERENCE_MAX_LENGTH } from '../postback.constants.js';
import { epochMillis } from '../database/column-transformers.js';

/** How a conversion found its click, or `none`. @publicApi */
export type AttributionSource = 'click_id' | 'session' | 'customer' | 'none';

/**
 * A shop event (purchase, registration, custom) as accepted, with its attribution and the
 * commission it earned. Unique per (type, reference): the same order reported twice is one
 * conversion.
 *
 * @publicApi
 */
@Entity('postback_conversions')
@Index('UQ_postback_conversions_type_reference', ['type', 'reference'], { unique: true })
@Index('IDX_postback_conversions_customer', ['customerId'])
export class Conversion {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id: string;

  @Column({ type: 'varchar', length: 64 })
  type: string;

  /**
   * The idempotency key (see idempotencyKey): the order ID; for a registration, a digest of
   * its customer ID.
   */
  @Column({ type: 'varchar', length: 255 })
  reference: string;

  @Column({ name: 'order_id', type: 'varchar', length: REFERENCE_MAX_LENGTH, nullable: true })
  orderId: string | null;

  @Column({ name: 'customer_id', type: 'varchar', length: REFERENCE_MAX_LENGTH, nullable: true })
  customerId: string | null;

  /** The digest of the event's `sessionKey` (`visitorKeyDigest`), never the key itself. */
  @Column({ name: 'visitor_key', type: 'varchar', length: 128, nullable: true })
  visitorKey: string | null;

  /** Decimal string in `currency`, e.g. "59.97". */
  @Column({ type: 'varchar', length: 32, nullable: true })
  amount: string | null;

  @Column({ type: 'varchar', length: 3, nullable: true })
  currency: string | null;

  @Column({ type: 'varchar', length: 32, nullable: true })
  commission: string | null;

  @Column({ name: 'commission_currency', type: 'varchar', length: 3, nullable: true })
  commissionCurrency: string | null;

  @Column({ type: 'varchar', length: 64, nullable: true })
  tracker: string | null;

  @Column({ name: 'click_id', type: 'varchar', length: CLICK_ID_COLUMN_LENGTH, nullable: true })
  clickId: string | null;

  @Column({ type: 'varchar', length: 16 })
  attribution: AttributionSource;

  @Column({ name: 'occurred_at', type: 'bigint', transformer: epochMillis })
  occurredAt: number;

  @Column({ name: 'created_at', type: 'bigint', transformer: epochMillis })
  createdAt: number;
}
