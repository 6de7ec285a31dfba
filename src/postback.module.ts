import { Inject, type MiddlewareConsumer, Module, type NestModule } from '@nestjs/common';

import { ClickCaptureMiddleware } from './click/click-capture.middleware.js';
import { ClickService } from './click/click.service.js';
import { ClickWriteBuffer } from './click/click-write-buffer.js';
import { AttributionService } from './conversion/attribution.service.js';
import { ConversionEventsListener } from './conversion/conversion-events.listener.js';
import { ConversionService } from './conversion/conversion.service.js';
import { OutboxAdminService } from './outbox/outbox-admin.service.js';
import { OutboxFlusher } from './outbox/outbox.flusher.js';
import { OutboxStore } from './outbox/outbox.store.js';
import { PostbackHttpClient } from './outbox/postback-http.client.js';
import { PostbackQueryService } from './outbox/postback-query.service.js';
import { POSTBACK_CLOCK, POSTBACK_RESOLVED_OPTIONS } from './postback.constants.js';
import { ConfigurableModuleClass, POSTBACK_MODULE_OPTIONS } from './postback.module-definition.js';
import {
  type ResolvedPostbackOptions,
  resolvePostbackOptions,
} from './resolve-postback-options.js';

/**
 * Server-to-server conversion tracking: `PostbackModule.forRoot({ trackers: [...] })` or
 * `forRootAsync({ useFactory, inject })`. The host provides a TypeORM DataSource (with the
 * module's entities and migrations) and `ScheduleModule.forRoot()`.
 *
 * @publicApi
 */
@Module({
  providers: [
    {
      provide: POSTBACK_RESOLVED_OPTIONS,
      useFactory: resolvePostbackOptions,
      inject: [POSTBACK_MODULE_OPTIONS],
    },
    {
      provide: POSTBACK_CLOCK,
      useFactory: (options: ResolvedPostbackOptions) => options.clock,
      inject: [POSTBACK_RESOLVED_OPTIONS],
    },
    ClickService,
    ClickWriteBuffer,
    ClickCaptureMiddleware,
    AttributionService,
    ConversionService,
    ConversionEventsListener,
    OutboxStore,
    PostbackHttpClient,
    OutboxFlusher,
    PostbackQueryService,
    OutboxAdminService,
  ],
  exports: [
    POSTBACK_RESOLVED_OPTIONS,
    ClickService,
    ConversionService,
    OutboxFlusher,
    PostbackQueryService,
    OutboxAdminService,
  ],
})
export class PostbackModule extends ConfigurableModuleClass implements NestModule {
  constructor(
    @Inject(POSTBACK_RESOLVED_OPTIONS) private readonly options: ResolvedPostbackOptions,
  ) {
    super();
  }

  configure(consumer: MiddlewareConsumer): void {
    const { enabled, exclude, routes } = this.options.capture;
    if (!enabled) return;
    consumer
      .apply(ClickCaptureMiddleware)
      .exclude(...exclude)
      .forRoutes(...routes);
  }
}
