import { Controller, Get, NotFoundException, Param, ParseUUIDPipe, Query } from '@nestjs/common';

import { PostbackQueryService } from '../outbox/postback-query.service.js';
import { ListPostbacksQuery } from './dto/list-postbacks.query.js';

/** What was sent: conversions with their postbacks, every attempt, dead letters with reasons. */
@Controller('v1')
export class OutboxController {
  constructor(private readonly queries: PostbackQueryService) {}

  @Get('conversions/:id')
  async conversion(@Param('id', new ParseUUIDPipe()) id: string) {
    const conversion = await this.queries.getConversion(id);
    if (!conversion) throw new NotFoundException(`No conversion ${id}`);
    return conversion;
  }

  @Get('postbacks')
  async postbacks(@Query() query: ListPostbacksQuery) {
    return { postbacks: await this.queries.listPostbacks(query) };
  }
}
