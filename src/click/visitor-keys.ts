import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';

import { POSTBACK_RESOLVED_OPTIONS } from '../postback.constants.js';
import type { ResolvedPostbackOptions } from '../options/resolved-options.js';
import { VISITOR_KEY_SECRET_ENV } from '../postback.constants.js';
import { sessionIdOf } from '../common/session-id.js';
import { visitorKeyHasher } from './visitor-key.js';

/**
 * What clicks and conversions store for a visitor key, and look it up by: typed apart from a
 * key, so a key in clear cannot be passed where its digest is expected. Computed once per
 * landing or event (an HMAC), then handed down.
 */
export type VisitorDigest = string & { readonly visitorDigest: unique symbol };

/** Turns visitor keys into what clicks and conversions store (see `visitorKeyDigest`). */
@Injectable()
export class VisitorKeys implements OnModuleInit {
  private readonly logger = new Logger(VisitorKeys.name);
  private readonly secret: string | undefined;
  private readonly hash: (key: string) => string;

  constructor(
    @Inject(POSTBACK_RESOLVED_OPTIONS) private readonly options: ResolvedPostbackOptions,
  ) {
    this.secret = options.capture.visitorKeySecret;
    this.hash = visitorKeyHasher(this.secret);
  }

  /** The digest of a visitor key, or null without one (a click stores '', a conversion null). */
  digest(key: string | undefined): VisitorDigest | null {
    return key ? (this.hash(key) as VisitorDigest) : null;
  }

  onModuleInit(): void {
    // A custom key may be guessable (an e-mail address), which an unkeyed hash does not hide.
    if (!this.secret && this.options.capture.visitorKey !== sessionIdOf) {
      this.logger.warn(
        'capture.visitorKey is set but capture.visitorKeySecret is not: visitor keys are stored ' +
          'as plain SHA-256, which anyone holding the table can test guesses against (an ' +
          `e-mail address, say). Set capture.visitorKeySecret, from ${VISITOR_KEY_SECRET_ENV}.`,
      );
    }
  }
}
