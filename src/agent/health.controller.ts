import { Controller, Get, ServiceUnavailableException } from '@nestjs/common';

import { PostbackDatabase } from '../database/postback-database.js';
import { PostbackQueryService } from '../outbox/postback-query.service.js';
import { PublicRoute } from './api-key.guard.js';
import { databaseHealth } from './database-health.js';

/** Liveness and readiness: the database answers; the outbox counts show a growing backlog. */
@Controller('health')
export class HealthController {
  constructor(
    private readonly queries: PostbackQueryService,
    private readonly db: PostbackDatabase,
  ) {}

  @Get()
  @PublicRoute()
  async health() {
    const { ok, ...database } = databaseHealth(this.db);
    if (!ok) throw new ServiceUnavailableException({ status: 'error', ...database });
    try {
      return { status: 'ok', database: 'up', outbox: await this.queries.countByState() };
    } catch {
      throw new ServiceUnavailableException({ status: 'error', database: 'down' });
    }
  }
}
