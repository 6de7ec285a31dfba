import { Controller, Get, HttpCode, Inject, NotFoundException, Param, Post } from '@nestjs/common';

import { OutboxAdminService } from '../outbox/outbox-admin.service.js';
import { POSTBACK_RESOLVED_OPTIONS } from '../postback.constants.js';
import { REDACTED } from '../postback/postback-request.builder.js';
import { samplePostback } from '../postback/postback-sample.js';
import { secretRedactor } from '../postback/secret-redactor.js';
import type { ResolvedPostbackOptions } from '../options/resolved-options.js';
import { AdminRoute } from './api-key.guard.js';

/** The configured trackers: what their postbacks look like, and a test send. */
@Controller()
export class TrackersController {
  constructor(
    @Inject(POSTBACK_RESOLVED_OPTIONS) private readonly options: ResolvedPostbackOptions,
    private readonly admin: OutboxAdminService,
  ) {}

  /**
   * The landing URL shape to give the network and the postback a sample purchase would
   * produce. Secrets are redacted here; `nestjs-postback build` prints them applied.
   */
  @Get('v1/trackers/:name/sample')
  sample(@Param('name') name: string) {
    const tracker = this.options.trackers.get(name);
    if (!tracker) throw new NotFoundException(`No tracker "${name}"`);
    const { landingUrl, request, notes, unconfirmed } = samplePostback(tracker, tracker.preset);
    const { redact } = secretRedactor(tracker);
    // An authorization header carries the secret (basic, bearer): redacted with the others.
    const headers = Object.fromEntries(
      Object.entries(request.headers).map(([header, value]) => [header, redact(value)]),
    );
    if (headers['webhook-signature']) headers['webhook-signature'] = REDACTED;
    return {
      tracker: name,
      preset: tracker.preset ?? null,
      landingUrl,
      postback: {
        method: request.method,
        url: request.redactedUrl,
        headers,
        ...(request.body !== undefined && { body: redact(request.body) }),
      },
      notes,
      unconfirmed,
    };
  }

  /** Sends a test postback now; read the network's answer at GET /v1/conversions/:id. */
  @Post('v1/admin/trackers/:name/test')
  @AdminRoute()
  @HttpCode(202)
  sendTest(@Param('name') name: string) {
    return this.admin.sendTest(name);
  }
}
