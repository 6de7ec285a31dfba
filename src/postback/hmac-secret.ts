import { randomBytes } from 'node:crypto';

/**
 * HMAC secrets in the Standard Webhooks format: `whsec_` and the base64 of the key bytes. The
 * official libraries (standardwebhooks, svix) base64-decode every secret, so a secret in any
 * other form would sign postbacks they can never verify: it is refused, not reinterpreted.
 */

export const HMAC_SECRET_PREFIX = 'whsec_';

/** The spec recommends keys of 24 to 64 bytes; fewer leave HMAC-SHA256 too easy to guess. */
export const MIN_HMAC_KEY_BYTES = 24;

/** What `nestjs-postback secret` generates: 32 random bytes. */
const GENERATED_KEY_BYTES = 32;

/** Standard base64 with its padding, as the libraries' decoder requires it. */
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export const HMAC_SECRET_HELP = `make one with \`npx nestjs-postback secret\` (or: echo "whsec_$(openssl rand -base64 32)")`;

/** What is wrong with a secret, never repeating it; undefined when it is a usable one. */
export function hmacSecretProblem(secret: string): string | undefined {
  if (!secret.startsWith(HMAC_SECRET_PREFIX)) {
    return `must be "${HMAC_SECRET_PREFIX}" followed by base64, the Standard Webhooks format the receivers' libraries read: ${HMAC_SECRET_HELP}`;
  }
  const encoded = secret.slice(HMAC_SECRET_PREFIX.length);
  if (!BASE64.test(encoded)) {
    return `is not valid base64 after "${HMAC_SECRET_PREFIX}" (standard alphabet with "=" padding, no spaces): ${HMAC_SECRET_HELP}`;
  }
  const bytes = Buffer.byteLength(encoded, 'base64');
  if (bytes < MIN_HMAC_KEY_BYTES) {
    return `holds ${bytes} bytes of key, fewer than the ${MIN_HMAC_KEY_BYTES} the Standard Webhooks spec asks for: ${HMAC_SECRET_HELP}`;
  }
  return undefined;
}

/** The key bytes of a `whsec_` secret; throws (without the secret) on anything else. */
export function hmacKey(secret: string): Buffer {
  const problem = hmacSecretProblem(secret);
  if (problem) throw new TypeError(`The secret ${problem}`);
  return Buffer.from(secret.slice(HMAC_SECRET_PREFIX.length), 'base64');
}

/**
 * A new random secret, in the format every Standard Webhooks library reads (what
 * `nestjs-postback secret` prints).
 *
 * @publicApi
 */
export function generateHmacSecret(): string {
  return HMAC_SECRET_PREFIX + randomBytes(GENERATED_KEY_BYTES).toString('base64');
}
