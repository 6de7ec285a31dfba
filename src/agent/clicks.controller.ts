import { Body, Controller, HttpCode, HttpStatus, Post, Res } from '@nestjs/common';
import type { Response } from 'express';

import type { CaptureClickInput } from '../click/click.service.js';
import { ClickService } from '../click/click.service.js';
import { InvalidInputError } from '../common/invalid-input.error.js';
import { CaptureClickDto } from './dto/capture-click.dto.js';

/** Clicks forwarded by a shop that is not a NestJS app. */
@Controller('v1/clicks')
export class ClicksController {
  constructor(private readonly clicks: ClickService) {}

  /**
   * Stores the click ID(s) found in a landing URL, or one given explicitly. Answers which
   * clicks were captured and why anything in the URL was ignored: 200 once they are stored,
   * 202 when the database could not take them now (another process holds SQLite's lock) and
   * they wait in memory to be written, as the capture middleware's do. 503 with Retry-After
   * when even that cannot hold them; nothing was kept then.
   */
  @Post()
  @HttpCode(200)
  async capture(@Body() dto: CaptureClickDto, @Res({ passthrough: true }) res: Response) {
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
    } else {
      const url = parseLandingUrl(dto.landingUrl as string);
      const { clicks, problems } = this.clicks.extract(queryOf(url));
      inputs = clicks.map((found) => ({ ...found, ...visitor, landingPath: url.pathname }));
      ignored = problems;
    }
    const { stored, queued } = await this.clicks.take(inputs);
    if (queued.length > 0) res.status(HttpStatus.ACCEPTED);
    return {
      captured: [
        ...stored.map((click) => ({
          id: click.id,
          tracker: click.tracker,
          clickId: click.clickId,
        })),
        ...queued.map((click) => ({
          tracker: click.tracker,
          clickId: click.clickId,
          queued: true,
        })),
      ],
      ignored,
    };
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

function queryOf(url: URL): Record<string, string | string[]> {
  const query: Record<string, string | string[]> = {};
  for (const key of new Set(url.searchParams.keys())) {
    const values = url.searchParams.getAll(key);
    query[key] = values.length === 1 ? values[0] : values;
  }
  return query;
}
