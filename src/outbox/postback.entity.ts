import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

import { epochMillis, jsonText } from '../database/column-transformers.js';
import type { PostbackFields } from '../postback/postback-fields.js';

/** @publicApi */
export type PostbackState = 'pending' | 'in_flight' | 'delivered' | 'dead' | 'cancelled';

/**
 * The outbox row of one postback. Its `id` is the stable event ID, the same on every attempt.
 * `nextAttemptAt` is when a pending row is due, and for a row in flight when its lease
 * expires, so one index on (state, next_attempt_at) serves every claim.
 *
 * @publicApi
 */
@Entity('postback_outbox')
@Index('IDX_postback_outbox_state_due', ['state', 'nextAttemptAt'])
@Index('UQ_postback_outbox_conversion_tracker', ['conversionId', 'tracker'], { unique: true })
export class Postback {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id: string;

  @Column({ name: 'conversion_id', type: 'varchar', length: 36 })
  conversionId: string;

  @Column({ type: 'varchar', length: 64 })
  tracker: string;

  @Column({ type: 'varchar', length: 16 })
  state: PostbackState;

  @Column({ type: 'text', transformer: jsonText })
  fields: PostbackFields;

  /** Requests sent (or, after a crash, that may have been): what `maxAttempts` counts. */
  @Column({ type: 'integer', default: 0 })
  attempts: number;

  /**
   * Claims whose lease expired before the request went out (the worker stopped with the row
   * still queued): counted apart, never against `maxAttempts`.
   */
  @Column({ name: 'lost_claims', type: 'integer', default: 0 })
  lostClaims: number;

  /**
   * When the current claim's request started, written before it goes out; null while the
   * row waits in a worker's queue. Cleared by every claim. (On SQLite the mark goes to a
   * journal file beside the database instead: see SendMarks.)
   */
  @Column({ name: 'sending_at', type: 'bigint', nullable: true, transformer: epochMillis })
  sendingAt: number | null;

  @Column({ name: 'next_attempt_at', type: 'bigint', transformer: epochMillis })
  nextAttemptAt: number;

  /**
   * A reversal waits for its original conversion's postback: it is not claimed while that one
   * is pending or in flight, and is dead-lettered if that one was never delivered.
   */
  @Column({ name: 'after_postback_id', type: 'varchar', length: 36, nullable: true })
  afterPostbackId: string | null;

  @Column({ name: 'lease_owner', type: 'varchar', length: 64, nullable: true })
  leaseOwner: string | null;

  /** Changes on every claim: only the holder of the current token may record the outcome. */
  @Column({ name: 'claim_token', type: 'varchar', length: 36, nullable: true })
  claimToken: string | null;

  @Column({ name: 'last_status', type: 'integer', nullable: true })
  lastStatus: number | null;

  @Column({ name: 'last_error', type: 'text', nullable: true })
  lastError: string | null;

  @Column({ name: 'delivered_at', type: 'bigint', nullable: true, transformer: epochMillis })
  deliveredAt: number | null;

  @Column({ name: 'created_at', type: 'bigint', transformer: epochMillis })
  createdAt: number;

  @Column({ name: 'updated_at', type: 'bigint', transformer: epochMillis })
  updatedAt: number;
}
