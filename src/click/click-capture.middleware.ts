import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  type NestMiddleware,
} from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';

import type { Clock } from '../common/clock.js';
import { POSTBACK_CLOCK, POSTBACK_RESOLVED_OPTIONS } from '../postback.constants.js';
import type { ResolvedPostbackOptions } from '../resolve-postback-options.js';
import { ClickService } from './click.service.js';
import { rememberSessionClick } from './session-clicks.js';

/** Click writes in the background at most; past it a landing keeps its click in the session only. */
export const MAX_PENDING_CLICK_WRITES = 10_000;

/**
 * Captures tracker click IDs from landing-page query strings into the session and the
 * database. It never holds up or breaks the landing page: the request goes on at once, the
 * database write finishes in the background, and anything refused or failing is logged.
 * Background writes are bounded, and awaited at shutdown before the database closes.
 */
@Injectable()
export class ClickCaptureMiddleware implements NestMiddleware, BeforeApplicationShutdown {
  private readonly logger = new Logger('PostbackClickCapture');
  private readonly pending = new Set<Promise<unknown>>();

  constructor(
    private readonly clicks: ClickService,
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
    const query = req.query as Record<string, unknown> | undefined;
    if (!query || Object.keys(query).length === 0) return;
    const { clicks, problems } = this.clicks.extract(query);
    for (const problem of problems) {
      this.logger.warn(`Landing on ${req.path}: ${problem}; the click was not captured`);
    }
    if (clicks.length === 0) return;

    const { visitorKey, customerId } = this.options.capture;
    const visitor = visitorKey(req);
    const customer = customerId(req);
    const session = (req as Request & { session?: Record<string, unknown> }).session;
    for (const click of clicks) {
      rememberSessionClick(session, {
        tracker: click.tracker,
        clickId: click.clickId,
        at: this.clock.now(),
      });
      if (this.pending.size >= MAX_PENDING_CLICK_WRITES) {
        this.logger.warn(
          `${this.pending.size} click writes are waiting for the database; this click of tracker "${click.tracker}" is kept in the session only`,
        );
        continue;
      }
      const write = this.clicks
        .capture({ ...click, visitorKey: visitor, customerId: customer, landingPath: req.path })
        .catch((error: Error) =>
          this.logger.error(
            `Could not store a click of tracker "${click.tracker}": ${error.message}`,
          ),
        )
        .finally(() => this.pending.delete(write));
      this.pending.add(write);
    }
  }

  /** Lets the clicks of the last landings reach the database before it closes. */
  async beforeApplicationShutdown(): Promise<void> {
    await Promise.all(this.pending);
  }
}
