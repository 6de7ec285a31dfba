import { Body, Controller, HttpCode, Inject, Post } from '@nestjs/common';

import type { CaptureClickInput } from '../click/click.service.js';
import { ClickService } from '../click/click.service.js';
import { landingClicks } from '../click/landing-clicks.js';
import { LandingQueryReader } from '../click/landing-query.js';
import { InvalidInputError } from '../errors/invalid-input.error.js';
import { POSTBACK_RESOLVED_OPTIONS } from '../postback.constants.js';
import type { ResolvedPostbackOptions } from '../options/resolved-options.js';
import { CaptureClickDto } from './dto/capture-click.dto.js';

/** Clicks forwarded by a shop that is not a NestJS app. */
@Controller('v1/clicks')
export class ClicksController {
  private readonly query: LandingQueryReader;

  constructor(
    private readonly clicks: ClickService,
    @Inject(POSTBACK_RESOLVED_OPTIONS) private readonly options: ResolvedPostbackOptions,
  ) {
    this.query = new LandingQueryReader(options.trackers.values());
  }

  /**
   * Stores the click found in a landing URL (one tracker's: see landingClicks), or one given
   * explicitly. Answers which click was captured and why anything in the URL was ignored:
   * 200 once it is stored; 503 with Retry-After when the database cannot take it now (another
   * process holds SQLite's lock, a failing disk): the caller sends it again (see takeClicks).
   */
  @Post()
  @HttpCode(200)
  async capture(@Body() dto: CaptureClickDto) {
    const visitor = { visitorKey: dto.sessionKey, customerId: dto.customerId };
    let inputs: CaptureClickInput[];
    let ignored: readonly string[] = [];
    if (dto.clickId !== undefined) {
      inputs = [
        {
          ...visitor,
          tracker: dto.tracker as string,
          clickId: dto.clickId,
          subParams: dto.subParams,
        },
      ];
      ignored = this.unconfiguredSubParams(dto.tracker as string, dto.subParams);
    } else {
      const url = parseLandingUrl(dto.landingUrl as string);
      // As the capture middleware reads a landing (the fragment is the browser's, never sent).
      const { clicks, problems } = landingClicks(
        url.pathname + url.search,
        this.query,
        this.options.trackers.values(),
      );
      inputs = clicks.map((found) => ({ ...found, ...visitor, landingPath: url.pathname }));
      ignored = problems;
    }
    const stored = await this.clicks.take(inputs);
    return {
      captured: stored.map((click) => ({
        id: click.id,
        tracker: click.tracker,
        clickId: click.clickId,
      })),
      ignored,
    };
  }

  /** Sub-parameters given that the tracker does not configure: not stored, and said so. */
  private unconfiguredSubParams(tracker: string, given: Record<string, string> | undefined) {
    const configured = this.options.trackers.get(tracker)?.subParams ?? [];
    return Object.keys(given ?? {})
      .filter((name) => !configured.includes(name))
      .map(
        (name) => `sub-parameter "${name}" is not in tracker "${tracker}"'s subParams; left out`,
      );
  }
}

function parseLandingUrl(landingUrl: string): URL {
  try {
    return new URL(landingUrl);
  } catch {
    // class-validator's IsUrl accepts a few URLs that WHATWG parsing refuses (xn--a.com).
    throw new InvalidInputError({ landingUrl: ['landingUrl is not a URL that can be parsed'] });
  }
}
