import { Injectable } from '@nestjs/common';
import { In } from 'typeorm';

import { Conversion } from '../conversion/conversion.entity.js';
import { PostbackDatabase } from '../database/postback-database.js';
import { DeliveryAttempt } from './delivery-attempt.entity.js';
import { Postback, type PostbackState } from './postback.entity.js';

/** @publicApi */
export interface PostbackView extends Postback {
  attemptLog: DeliveryAttempt[];
}

/** @publicApi */
export interface ConversionView extends Conversion {
  postbacks: PostbackView[];
}

export const POSTBACK_STATES: PostbackState[] = [
  'pending',
  'in_flight',
  'delivered',
  'dead',
  'cancelled',
];

/**
 * Read side of the outbox: what was sent, every attempt, and dead letters with their reasons.
 *
 * @publicApi
 */
@Injectable()
export class PostbackQueryService {
  constructor(private readonly db: PostbackDatabase) {}

  getConversion(id: string): Promise<ConversionView | null> {
    return this.db.run(async (manager) => {
      const conversion = await manager.findOneBy(Conversion, { id });
      if (!conversion) return null;
      const postbacks = await manager.find(Postback, {
        where: { conversionId: id },
        order: { createdAt: 'ASC' },
      });
      return { ...conversion, postbacks: await this.withAttempts(manager, postbacks) };
    });
  }

  /** Newest first, at most `limit` (capped at 500). */
  listPostbacks(filter: { state?: PostbackState; limit?: number }): Promise<PostbackView[]> {
    return this.db.run(async (manager) => {
      const postbacks = await manager.find(Postback, {
        where: filter.state ? { state: filter.state } : {},
        order: { createdAt: 'DESC' },
        take: Math.min(filter.limit ?? 100, 500),
      });
      return this.withAttempts(manager, postbacks);
    });
  }

  /** Rows per state, for health checks and dashboards. */
  countByState(): Promise<Record<PostbackState, number>> {
    return this.db.run(async (manager) => {
      const rows: { state: PostbackState; count: string | number }[] = await manager
        .createQueryBuilder(Postback, 'p')
        .select('p.state', 'state')
        .addSelect('COUNT(*)', 'count')
        .groupBy('p.state')
        .getRawMany();
      const counts = Object.fromEntries(POSTBACK_STATES.map((s) => [s, 0])) as Record<
        PostbackState,
        number
      >;
      for (const row of rows) counts[row.state] = Number(row.count);
      return counts;
    });
  }

  private async withAttempts(
    manager: import('typeorm').EntityManager,
    postbacks: Postback[],
  ): Promise<PostbackView[]> {
    if (postbacks.length === 0) return [];
    const attempts = await manager.find(DeliveryAttempt, {
      where: { postbackId: In(postbacks.map((p) => p.id)) },
      order: { startedAt: 'ASC', attempt: 'ASC' },
    });
    return postbacks.map((p) => ({
      ...p,
      attemptLog: attempts.filter((a) => a.postbackId === p.id),
    }));
  }
}
