import { createHash, createHmac } from 'node:crypto';

/**
 * Names the key digests are made with, never the key itself: the first 8 hex characters of
 * an HMAC of a fixed text, or `sha256` without a secret. Stored in each digest and in
 * `postback_meta`, so a secret that differs from the one the stored rows were made with is
 * seen at start-up rather than by visitors silently no longer found.
 */
export function visitorKeyFingerprint(secret: string | undefined): string {
  if (!secret) return 'sha256';
  return createHmac('sha256', secret).update('postback visitor key').digest('hex').slice(0, 8);
}

/** A stored digest: `v1:<fingerprint>:<64 hex>`, 76 characters at most. */
const DIGEST = /^v1:(sha256|[0-9a-f]{8}):[0-9a-f]{64}$/;

/** Whether a stored visitor key is a digest (else a key stored in clear by earlier versions). */
export function isVisitorKeyDigest(stored: string): boolean {
  return DIGEST.test(stored);
}

/**
 * What is stored, and looked up, for a visitor key: never the key itself, which is a
 * credential (a session ID opens the visitor's session) or guessable (an e-mail address).
 * With a secret, HMAC-SHA256, so a leaked table cannot be checked against guesses; without,
 * SHA-256, enough for random session IDs. Prefixed with how it was made (see
 * `visitorKeyFingerprint`), so a digest is never taken for a key and hashed again.
 *
 * A key over 128 characters is hashed twice, as before keys were hashed it was stored as its
 * SHA-256: so the upgrade, which only has the stored form, gets the same digest.
 */
export function visitorKeyHasher(secret: string | undefined): (key: string) => string {
  const prefix = `v1:${visitorKeyFingerprint(secret)}:`;
  return (key) => {
    const stored = key.length <= 128 ? key : createHash('sha256').update(key).digest('hex');
    const hash = secret ? createHmac('sha256', secret) : createHash('sha256');
    return prefix + hash.update(stored).digest('hex');
  };
}

/** `visitorKeyHasher(secret)(key)`. */
export function visitorKeyDigest(key: string, secret: string | undefined): string {
  return visitorKeyHasher(secret)(key);
}
