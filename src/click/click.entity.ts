import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

import {
  CLICK_ID_COLUMN_LENGTH,
  LANDING_PATH_MAX_LENGTH,
  REFERENCE_MAX_LENGTH,
} from '../postback.constants.js';
import { epochMillis, jsonText } from '../database/column-transformers.js';

/**
 * A tracker's click ID as a visitor brought it to a landing page. One row per
 * (tracker, click ID, visitor): repeated landings only move `lastSeenAt`. Lookups by click ID
 * go through the unique index (a tracker's name, or all configured ones, comes first).
 *
 * @publicApi
 */
@Entity('postback_clicks')
@Index('UQ_postback_clicks_tracker_click_visitor', ['tracker', 'clickId', 'visitorKey'], {
  unique: true,
})
@Index('IDX_postback_clicks_visitor_seen', ['visitorKey', 'lastSeenAt'])
@Index('IDX_postback_clicks_customer_seen', ['customerId', 'lastSeenAt'])
export class Click {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id: string;

  @Column({ type: 'varchar', length: 64 })
  tracker: string;

  /** Exactly as received: never trimmed, re-cased or decoded twice. */
  @Column({ name: 'click_id', type: 'varchar', length: CLICK_ID_COLUMN_LENGTH })
  clickId: string;

  /** The digest of the session ID or host-chosen visitor key (`visitorKeyDigest`); '' for none. */
  @Column({ name: 'visitor_key', type: 'varchar', length: 128, default: '' })
  visitorKey: string;

  /** Set when the visitor registers or a purchase names them. */
  @Column({ name: 'customer_id', type: 'varchar', length: REFERENCE_MAX_LENGTH, nullable: true })
  customerId: string | null;

  @Column({ name: 'landing_path', type: 'varchar', length: LANDING_PATH_MAX_LENGTH, default: '' })
  landingPath: string;

  /** Sub-parameters named in the tracker's `subParams`, as received. */
  @Column({ name: 'sub_params', type: 'text', nullable: true, transformer: jsonText })
  subParams: Record<string, string> | null;

  @Column({ name: 'first_seen_at', type: 'bigint', transformer: epochMillis })
  firstSeenAt: number;

  @Column({ name: 'last_seen_at', type: 'bigint', transformer: epochMillis })
  lastSeenAt: number;
}
