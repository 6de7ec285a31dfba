import { Controller, Get, ServiceUnavailableException } from '@nestjs/common';

import { PostbackQueryService } from '../outbox/postback-query.service.js';
import { PublicRoute } from './api-key.guard.js';

/** Liveness and readiness: the database answers; the outbox counts show a growing backlog. */
@Controller('health')
export class HealthController {
  constructor(private readonly queries: PostbackQueryService) {}

  @Get()
  @PublicRoute()
  async health() {
    try {
      return { status: 'ok', database: 'up', outbox: await this.queries.countByState() };
    } catch {
      throw new ServiceUnavailableException({ status: 'error', database: 'down' });
    }
  }
}
