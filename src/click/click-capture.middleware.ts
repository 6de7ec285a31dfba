import { Inject, Injectable, Logger, type NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';

import type { Clock } from '../common/clock.js';
import { POSTBACK_CLOCK, POSTBACK_RESOLVED_OPTIONS } from '../postback.constants.js';
import type { ResolvedPostbackOptions } from '../resolve-postback-options.js';
import { ClickService } from './click.service.js';
import { ClickWriteBuffer } from './click-write-buffer.js';
import { rememberSessionClick } from './session-clicks.js';

/**
 * Captures tracker click IDs from landing-page query strings into the session and the
 * database. It never holds up or breaks the landing page: the click is in the session at
 * once, the request goes on, and the database write happens later through the bounded
 * ClickWriteBuffer; anything refused or failing is logged.
 */
@Injectable()
export class ClickCaptureMiddleware implements NestMiddleware {
  private readonly logger = new Logger('PostbackClickCapture');

  constructor(
    private readonly clicks: ClickService,
    private readonly buffer: ClickWriteBuffer,
    @Inject(POSTBACK_RESOLVED_OPTIONS) private readonly options: ResolvedPostbackOptions,
    @Inject(POSTBACK_CLOCK) private readonly clock: Clock,
  ) {}

  use(req: Request, _res: Response, next: NextFunction): void {
    try {
      this.capture(req);
    } catch (error) {
      this.logger.warn(`Click capture failed on ${req.path}: ${(error as Error).message}`);
    }
    next();
  }

  private capture(req: Request): void {
    // Express parses the query anew on every read of req.query: not for a URL without one.
    if (!req.url.includes('?')) return;
    const query = req.query as Record<string, unknown> | undefined;
    if (!query) return;
    const { clicks, problems } = this.clicks.extract(query);
    for (const problem of problems) {
      this.logger.warn(`Landing on ${req.path}: ${problem}; the click was not captured`);
    }
    if (clicks.length === 0) return;

    const { visitorKey, customerId } = this.options.capture;
    const visitor = visitorKey(req);
    const customer = customerId(req);
    const session = (req as Request & { session?: Record<string, unknown> }).session;
    const path = req.path;
    for (const click of clicks) {
      if (session) {
        rememberSessionClick(session, {
          tracker: click.tracker,
          clickId: click.clickId,
          at: this.clock.now(),
        });
      }
      try {
        const row = this.clicks.landingRow(click, visitor, customer, path);
        this.buffer.add(row); // a refusal is logged there; the click stays in the session
      } catch (error) {
        this.logger.error(
          `Could not store a click of tracker "${click.tracker}": ${(error as Error).message}`,
        );
      }
    }
  }
}
