import { Inject, Injectable, Logger, type NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';

import type { Clock } from '../common/clock.js';
import { POSTBACK_CLOCK, POSTBACK_RESOLVED_OPTIONS } from '../postback.constants.js';
import type { ResolvedPostbackOptions } from '../options/resolved-options.js';
import { ClickService } from './click.service.js';
import { ClickWriteBuffer } from './click-write-buffer.js';
import { landingClicks } from './landing-clicks.js';
import { LandingQueryReader } from './landing-query.js';
import { rememberSessionClick } from './session-clicks.js';

const SLASH = 0x2f;
const GET_OR_HEAD = new Set(['GET', 'HEAD']);

/**
 * Captures tracker click IDs from landing-page query strings into the session and the
 * database. It never holds up or breaks the landing page: the click is in the session at
 * once, the request goes on, and the database write happens later through the bounded
 * ClickWriteBuffer; anything refused or failing is logged.
 */
@Injectable()
export class ClickCaptureMiddleware implements NestMiddleware {
  private readonly logger = new Logger(ClickCaptureMiddleware.name);
  private readonly query: LandingQueryReader;
  private warnedNoVisitor = false;

  constructor(
    private readonly clicks: ClickService,
    private readonly buffer: ClickWriteBuffer,
    @Inject(POSTBACK_RESOLVED_OPTIONS) private readonly options: ResolvedPostbackOptions,
    @Inject(POSTBACK_CLOCK) private readonly clock: Clock,
  ) {
    this.query = new LandingQueryReader(options.trackers.values());
  }

  use(req: Request, _res: Response, next: NextFunction): void {
    try {
      this.capture(req);
    } catch (error) {
      this.logger.warn(`Click capture failed on ${req.path}: ${(error as Error).message}`);
    }
    next();
  }

  private capture(req: Request): void {
    // Mounted for every request by default (see PostbackModule.configure): landings are GETs
    // (and the HEADs Express serves with them). On routes the host chose, their methods hold.
    if (this.options.capture.routes === undefined && !GET_OR_HEAD.has(req.method)) return;
    const url = req.url;
    const { clicks, problems } = landingClicks(url, this.query, this.options.trackers.values());
    for (const problem of problems) this.logger.warn(`Landing on ${req.path}: ${problem}`);
    if (clicks.length === 0) return;

    const { visitorKey, customerId } = this.options.capture;
    const session = (req as Request & { session?: Record<string, unknown> }).session;
    const visitor = visitorKey(req);
    const customer = customerId(req);
    if (!session && !visitor) this.warnNoVisitor(clicks[0].tracker);
    // req.path parses the URL again (a getter): a path-only target is cut at its query here.
    const path =
      url.charCodeAt(0) === SLASH && !url.includes('#') ? url.slice(0, url.indexOf('?')) : req.path;
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

  /**
   * A click with neither a session nor a visitor key can be found again only by its click ID
   * (or a customer the host named at landing): registrations come back unattributed and
   * nothing is sent. The usual cause is
   * express-session mounted through a MiddlewareConsumer, which runs after this middleware.
   * Said once, as the misconfiguration holds for every landing.
   */
  private warnNoVisitor(tracker: string): void {
    if (this.warnedNoVisitor) return;
    this.warnedNoVisitor = true;
    this.logger.warn(
      `A click of tracker "${tracker}" was captured with no req.session and no visitor key: ` +
        'later events of this visitor cannot find it (registrations come back unattributed, ' +
        'no postback is sent). Mount express-session with app.use() before app.init() or ' +
        'app.listen(), not through a MiddlewareConsumer (its middleware runs after click ' +
        'capture); without server sessions, set capture.visitorKey. Logged once.',
    );
  }
}
