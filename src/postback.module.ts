import {
  Inject,
  type MiddlewareConsumer,
  Module,
  type NestModule,
  Optional,
  RequestMethod,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { NextFunction, Request, Response } from 'express';

import { ClickCaptureMiddleware } from './click/click-capture.middleware.js';
import { ClickRepository } from './click/click.repository.js';
import { ClickService } from './click/click.service.js';
import { ClickWriteBuffer } from './click/click-write-buffer.js';
import { VisitorKeyCheck } from './click/visitor-key-check.js';
import { VisitorKeys } from './click/visitor-keys.js';
import { AttributionService } from './conversion/attribution.service.js';
import { ConversionEventsListener } from './conversion/conversion-events.listener.js';
import { ConversionService } from './conversion/conversion.service.js';
import { ReversalService } from './conversion/reversal.service.js';
import { OutboxAdminService } from './outbox/outbox-admin.service.js';
import { OutboxFlusher } from './outbox/outbox.flusher.js';
import { OutboxStore } from './outbox/outbox.store.js';
import { TrackerCircuits } from './outbox/tracker-circuits.js';
import { PostbackHttpClient } from './outbox/postback-http.client.js';
import { PostbackQueryService } from './outbox/postback-query.service.js';
import { PostbackSender } from './outbox/postback-sender.js';
import { POSTBACK_CLOCK, POSTBACK_RESOLVED_OPTIONS } from './postback.constants.js';
import { ConfigurableModuleClass, POSTBACK_MODULE_OPTIONS } from './postback.module-definition.js';
import { resolvePostbackOptions } from './options/resolve-options.js';
import type { ResolvedPostbackOptions } from './options/resolved-options.js';

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
    ClickRepository,
    ClickService,
    ClickWriteBuffer,
    VisitorKeys,
    VisitorKeyCheck,
    ClickCaptureMiddleware,
    AttributionService,
    ConversionService,
    ReversalService,
    ConversionEventsListener,
    OutboxStore,
    PostbackHttpClient,
    TrackerCircuits,
    PostbackSender,
    OutboxFlusher,
    PostbackQueryService,
    OutboxAdminService,
  ],
  exports: [
    POSTBACK_RESOLVED_OPTIONS,
    ClickService,
    ConversionService,
    OutboxFlusher,
    TrackerCircuits,
    PostbackQueryService,
    OutboxAdminService,
  ],
})
export class PostbackModule extends ConfigurableModuleClass implements NestModule {
  constructor(
    @Inject(POSTBACK_RESOLVED_OPTIONS) private readonly options: ResolvedPostbackOptions,
    private readonly captureMiddleware: ClickCaptureMiddleware,
    @Optional() private readonly adapterHost?: HttpAdapterHost,
  ) {
    super();
  }

  /**
   * Mounts click capture. For every GET request (the default), on an Express app, it goes on
   * the app itself, as `app.use(fn)` would: Express runs it for every request at no cost, where
   * Nest's consumer mounts it as a GET route on `*path`, matched against each request's path
   * and dispatched as a route, and notes each request it ran for in a WeakSet: machinery that
   * costs more than the capture itself. It runs where consumer-mounted middleware would: after
   * what the app mounted with `app.use()` before starting (express-session), before the
   * routes. With `capture.routes` or `capture.exclude` given, Nest's consumer mounts it on those.
   */
  configure(consumer: MiddlewareConsumer): void {
    const { enabled, exclude, routes } = this.options.capture;
    if (!enabled) return;
    const http = this.adapterHost?.httpAdapter;
    if (routes === undefined && exclude.length === 0 && http?.getType() === 'express') {
      const capture = this.captureMiddleware;
      http.use((req: Request, res: Response, next: NextFunction) => capture.use(req, res, next));
      return;
    }
    consumer
      .apply(ClickCaptureMiddleware)
      .exclude(...exclude)
      .forRoutes(...(routes ?? [{ path: '*path', method: RequestMethod.GET }]));
  }
}
