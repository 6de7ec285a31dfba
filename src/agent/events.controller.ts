import { Body, Controller, HttpCode, Post } from '@nestjs/common';

import { CheckedEvent } from '../conversion/checked-event.js';
import { ConversionService, type RecordResult } from '../conversion/conversion.service.js';

/** Shop events: purchases, registrations, custom events. */
@Controller('v1/events')
export class EventsController {
  constructor(private readonly conversions: ConversionService) {}

  /**
   * Records the event and queues its postback. 202: the postback goes out asynchronously;
   * the answer says whether the event was attributed, queued, or a duplicate of an earlier one.
   *
   * The body is typed as a plain record so that the global ValidationPipe (class-typed
   * parameters only) passes it through: CheckedEvent validates it once, with the same DTO.
   */
  @Post()
  @HttpCode(202)
  record(@Body() body: Record<string, unknown>): Promise<RecordResult> {
    return this.conversions.recordChecked(CheckedEvent.check(body, { forbidUnknownFields: true }));
  }
}
