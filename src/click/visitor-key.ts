import { createHash, createHmac } from 'node:crypto';

import type { Request } from 'express';

/**
 * The environment variable holding the key of visitor-key hashes: the agent reads it, and so
 * does the migration that hashes the keys stored before they were hashed. A host passes the
 * same value as `capture.visitorKeySecret`.
 */
export const VISITOR_KEY_SECRET_ENV = 'POSTBACK_VISITOR_KEY_SECRET';

/** The default visitor key: express-session's session ID. */
export function sessionIdOf(req: Request): string | undefined {
  return (req as Request & { sessionID?: string }).sessionID;
}

/**
 * What is stored, and looked up, for a visitor key: never the key itself, which is a
 * credential (a session ID opens the visitor's session) or guessable (an e-mail address).
 * With a secret, HMAC-SHA256, so a leaked table cannot be checked against guesses; without,
 * SHA-256, enough for random session IDs. Hex, 64 characters.
 *
 * A key over 128 characters is hashed twice, as before keys were hashed it was stored as its
 * SHA-256: so the migration, which only has the stored form, gets the same digest.
 */
export function visitorKeyDigest(key: string, secret: string | undefined): string {
  const stored = key.length <= 128 ? key : createHash('sha256').update(key).digest('hex');
  const hash = secret ? createHmac('sha256', secret) : createHash('sha256');
  return hash.update(stored).digest('hex');
}
