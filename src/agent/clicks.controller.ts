import { Body, Controller, HttpCode, Inject, Post } from '@nestjs/common';

import { ClickService } from '../click/click.service.js';
import { InvalidInputError } from '../common/invalid-input.error.js';
import { POSTBACK_RESOLVED_OPTIONS } from '../postback.constants.js';
import type { ResolvedPostbackOptions } from '../resolve-postback-options.js';
import { CaptureClickDto } from './dto/capture-click.dto.js';

/** Clicks forwarded by a shop that is not a NestJS app. */
@Controller('v1/clicks')
export class ClicksController {
  constructor(
    private readonly clicks: ClickService,
    @Inject(POSTBACK_RESOLVED_OPTIONS) private readonly options: ResolvedPostbackOptions,
  ) {}

  /**
   * Stores the click ID(s) found in a landing URL, or one given explicitly. Answers which
   * clicks were captured and why anything in the URL was ignored.
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
        ignored: this.unconfiguredSubParams(dto.tracker as string, dto.subParams),
      };
    }
    let url: URL;
    try {
      url = new URL(dto.landingUrl as string);
    } catch {
      // class-validator's IsUrl accepts a few URLs that WHATWG parsing refuses (xn--a.com).
      throw new InvalidInputError({ landingUrl: ['landingUrl is not a URL that can be parsed'] });
    }
    const query: Record<string, string | string[]> = {};
    for (const key of new Set(url.searchParams.keys())) {
      const values = url.searchParams.getAll(key);
      query[key] = values.length === 1 ? values[0] : values;
    }
    const { clicks, problems } = this.clicks.extract(query);
    const captured = [];
    for (const found of clicks) {
      const click = await this.clicks.capture({ ...found, ...visitor, landingPath: url.pathname });
      captured.push({ id: click.id, tracker: click.tracker, clickId: click.clickId });
    }
    return { captured, ignored: problems };
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
