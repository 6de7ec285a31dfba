import { Body, Controller, HttpCode, Post } from '@nestjs/common';

import { OutboxAdminService } from '../outbox/outbox-admin.service.js';
import { AdminRoute } from './api-key.guard.js';
import { OutboxSelectionDto, PurgeDto, ReplayDto } from './dto/outbox-selection.dto.js';

const DAY_MS = 24 * 60 * 60 * 1000;

/** Outbox operations; they need the admin key (POSTBACK_ADMIN_KEY), not the API key. */
@Controller('v1/admin/postbacks')
@AdminRoute()
export class AdminController {
  constructor(private readonly admin: OutboxAdminService) {}

  @Post('replay')
  @HttpCode(200)
  async replay(@Body() dto: ReplayDto) {
    return { replayed: await this.admin.replay(dto) };
  }

  @Post('cancel')
  @HttpCode(200)
  async cancel(@Body() dto: OutboxSelectionDto) {
    return { cancelled: await this.admin.cancel(dto) };
  }

  @Post('purge')
  @HttpCode(200)
  async purge(@Body() dto: PurgeDto) {
    return { purged: await this.admin.purgeDelivered(dto.olderThanDays * DAY_MS) };
  }
}
