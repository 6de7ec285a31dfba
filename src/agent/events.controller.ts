import { Body, Controller, HttpCode, Post } from '@nestjs/common';

import { ConversionService, type RecordResult } from '../conversion/conversion.service.js';
import { ConversionEventDto } from '../conversion/dto/conversion-event.dto.js';

/** Shop events: purchases, registrations, custom events. */
@Controller('v1/events')
export class EventsController {
  constructor(private readonly conversions: ConversionService) {}

  /**
   * Records the event and queues its postback. 202: the postback goes out asynchronously;
   * the answer says whether the event was attributed, queued, or a duplicate of an earlier one.
   */
  @Post()
  @HttpCode(202)
  record(@Body() event: ConversionEventDto): Promise<RecordResult> {
    return this.conversions.record(event);
  }
}
