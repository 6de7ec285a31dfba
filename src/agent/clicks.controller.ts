import { Body, Controller, HttpCode, Inject, Post } from '@nestjs/common';

import { ClickService } from '../click/click.service.js';
import { landingClicks } from '../click/landing-clicks.js';
import { LandingQueryReader } from '../click/landing-query.js';
import { InvalidInputError } from '../common/invalid-input.error.js';
import { POSTBACK_RESOLVED_OPTIONS } from '../postback.constants.js';
import type { ResolvedPostbackOptions } from '../resolve-postback-options.js';
import { CaptureClickDto } from './dto/capture-click.dto.js';

/** Clicks forwarded by a shop that is not a NestJS app. */
@Controller('v1/clicks')
export class ClicksController {
  private readonly query: LandingQueryReader;

  constructor(
    private readonly clicks: ClickService,
    @Inject(POSTBACK_RESOLVED_OPTIONS) options: ResolvedPostbackOptions,
  ) {
    this.query = new LandingQueryReader(options.trackers.values());
  }

  /**
   * Stores the click found in a landing URL (one tracker's: see landingClicks), or one given
   * explicitly. Answers which click was captured and why anything in the URL was ignored.
   */
  @Post()
  @HttpCode(200)
  async capture(@Body() dto: CaptureClickDto) {
    const visitor = { visitorKey: dto.sessionKey, customerId: dto.customerId };
    if (dto.clickId !== undefined) {
      const click = await this.clicks.capture({
        ...visitor,
        tracker: dto.tracker as string,
        clickId: dto.clickId,
        subParams: dto.subParams,
      });
      return {
        captured: [{ id: click.id, tracker: click.tracker, clickId: click.clickId }],
        ignored: [],
      };
    }
    let url: URL;
    try {
      url = new URL(dto.landingUrl as string);
    } catch {
      // class-validator's IsUrl accepts a few URLs that WHATWG parsing refuses (xn--a.com).
      throw new InvalidInputError({ landingUrl: ['landingUrl is not a URL that can be parsed'] });
    }
    // As the capture middleware reads a landing (the fragment is the browser's, never sent).
    const { clicks, problems } = landingClicks(url.pathname + url.search, this.query, this.clicks);
    const captured = [];
    for (const found of clicks) {
      const click = await this.clicks.capture({ ...found, ...visitor, landingPath: url.pathname });
      captured.push({ id: click.id, tracker: click.tracker, clickId: click.clickId });
    }
    return { captured, ignored: problems };
  }
}
