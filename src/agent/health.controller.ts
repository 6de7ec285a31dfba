import { Controller, Get, ServiceUnavailableException } from '@nestjs/common';

import { PostbackDatabase } from '../database/postback-database.js';
import { PostbackQueryService } from '../outbox/postback-query.service.js';
import { TrackerCircuits } from '../outbox/tracker-circuits.js';
import { PublicRoute } from './api-key.guard.js';
import { databaseHealth } from './database-health.js';
import { pausedTrackers } from './paused-trackers.js';

/**
 * Liveness and readiness: the database answers; the outbox counts show a growing backlog;
 * `pausedTrackers` lists the trackers whose circuit is open, and when each is next probed.
 */
@Controller('health')
export class HealthController {
  constructor(
    private readonly queries: PostbackQueryService,
    private readonly db: PostbackDatabase,
    private readonly circuits: TrackerCircuits,
  ) {}

  @Get()
  @PublicRoute()
  async health() {
    // While writes are failing, a tiny write tells whether they work again.
    await this.db.probeWrites();
    const { ok, ...database } = databaseHealth(this.db);
    if (!ok) throw new ServiceUnavailableException({ status: 'error', ...database });
    const paused = pausedTrackers(this.circuits);
    try {
      const outbox = await this.queries.countByState();
      return { status: 'ok', database: 'up', outbox, pausedTrackers: paused };
    } catch {
      throw new ServiceUnavailableException({ status: 'error', database: 'down' });
    }
  }
}
