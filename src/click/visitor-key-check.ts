import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';

import { claimMeta, readMeta } from '../database/postback-meta.js';
import { PostbackDatabase } from '../database/postback-database.js';
import { POSTBACK_RESOLVED_OPTIONS } from '../postback.constants.js';
import type { ResolvedPostbackOptions } from '../options/resolved-options.js';
import { hashLegacyVisitorKeys } from './legacy-visitor-keys.js';
import { visitorKeyFingerprint, visitorKeyHasher } from './visitor-key.js';
import { VisitorKeyMismatchError } from '../errors/visitor-key-mismatch.error.js';

/** `postback_meta` name: the fingerprint (`v1:<fingerprint>`) the stored digests are made with. */
export const VISITOR_KEY_HASH = 'visitor_key_hash';
/** `postback_meta` name: set once the keys stored in clear by earlier versions are hashed. */
export const LEGACY_KEYS_HASHED = 'legacy_visitor_keys';

/**
 * At start-up, before any click is captured: the first start records which key visitor-key
 * digests are made with; every later start with another key (a secret set, changed or
 * dropped; an instance configured apart) is refused, as its lookups would silently miss every
 * stored visitor. The first start also hashes the keys earlier versions stored in clear, with
 * the module's own secret (see hashLegacyVisitorKeys).
 */
@Injectable()
export class VisitorKeyCheck implements OnModuleInit {
  private readonly logger = new Logger(VisitorKeyCheck.name);

  constructor(
    @Inject(POSTBACK_RESOLVED_OPTIONS) private readonly options: ResolvedPostbackOptions,
    private readonly db: PostbackDatabase,
  ) {}

  async onModuleInit(): Promise<void> {
    const secret = this.options.capture.visitorKeySecret;
    const mine = `v1:${visitorKeyFingerprint(secret)}`;
    // Claimed before any row is hashed: two instances with different keys cannot both hash.
    const stored = await this.db.run((m) => claimMeta(m, VISITOR_KEY_HASH, mine));
    if (stored !== mine) throw new VisitorKeyMismatchError(stored.slice(3), mine.slice(3));
    if ((await this.db.run((m) => readMeta(m, LEGACY_KEYS_HASHED))) !== undefined) return;
    const hashed = await hashLegacyVisitorKeys(this.db, visitorKeyHasher(secret));
    await this.db.run((m) => claimMeta(m, LEGACY_KEYS_HASHED, 'hashed'));
    if (hashed > 0) this.logger.log(`Hashed ${hashed} visitor key(s) stored in clear before.`);
  }
}
