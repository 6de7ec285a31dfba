import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

import { epochMillis } from '../database/column-transformers.js';

/** @publicApi */
export type AttemptOutcome = 'delivered' | 'retry' | 'dead';

/**
 * One try at sending a postback: when, how long, what came back. The request URL is kept with
 * secrets replaced by `[redacted]`.
 *
 * @publicApi
 */
@Entity('postback_attempts')
@Index('IDX_postback_attempts_postback_started', ['postbackId', 'startedAt'])
export class DeliveryAttempt {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id: string;

  @Column({ name: 'postback_id', type: 'varchar', length: 36 })
  postbackId: string;

  @Column({ type: 'integer' })
  attempt: number;

  @Column({ name: 'started_at', type: 'bigint', transformer: epochMillis })
  startedAt: number;

  @Column({ name: 'duration_ms', type: 'integer' })
  durationMs: number;

  @Column({ name: 'request_url', type: 'text' })
  requestUrl: string;

  @Column({ name: 'status_code', type: 'integer', nullable: true })
  statusCode: number | null;

  @Column({ type: 'varchar', length: 16 })
  outcome: AttemptOutcome;

  @Column({ type: 'text', nullable: true })
  error: string | null;

  @Column({ name: 'response_excerpt', type: 'text', nullable: true })
  responseExcerpt: string | null;
}
