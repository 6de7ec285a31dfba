import { createHmac, timingSafeEqual } from 'node:crypto';

import { hmacKey } from './hmac-secret.js';

/**
 * HMAC-SHA256 signatures in the Standard Webhooks scheme: the signed content is
 * `{id}.{timestamp}.{payload}` and a signature reads `v1,<base64>`. For POST the payload is
 * the raw body and the values travel in `webhook-id`, `webhook-timestamp` and
 * `webhook-signature` headers; for GET the payload is the path and query as sent (or the
 * query alone, see `GetSignatureCoverage`), up to the signature parameter, which always
 * comes last. docs/verifying-postbacks.md is the receiver's guide.
 */

export const DEFAULT_SIGNATURE_QUERY_PARAMS = {
  id: 'pb_id',
  timestamp: 'pb_ts',
  signature: 'pb_sig',
} as const;

export const DEFAULT_TOLERANCE_SECONDS = 5 * 60;

/**
 * What a GET signature covers: the path and the query (the default), or the query alone, for
 * receivers behind a proxy that rewrites the path (nginx `proxy_pass` with a URI decodes it).
 *
 * @publicApi
 */
export type GetSignatureCoverage = 'path_and_query' | 'query';

/**
 * The signed payload of a GET: `unsigned` is the request target as sent, up to (not
 * including) the `&` before the signature parameter; with `query`, only what follows the `?`.
 */
export function getSignedPayload(unsigned: string, covers: GetSignatureCoverage): string {
  return covers === 'query' ? unsigned.slice(unsigned.indexOf('?') + 1) : unsigned;
}

/**
 * One `v1,<base64>` signature per secret, space-separated (two during a key rotation). Every
 * secret must be a `whsec_` one (see hmac-secret.ts): this throws on any other.
 */
export function signContent(
  secrets: string | string[],
  id: string,
  timestamp: number,
  payload: string | Buffer,
): string {
  return [secrets]
    .flat()
    .map((secret) => signWithKey(hmacKey(secret), id, timestamp, payload))
    .join(' ');
}

function signWithKey(key: Buffer, id: string, timestamp: number, payload: string | Buffer) {
  const hmac = createHmac('sha256', key);
  hmac.update(`${id}.${timestamp}.`);
  hmac.update(payload);
  return `v1,${hmac.digest('base64')}`;
}

/** @publicApi */
export interface VerifyPostbackSignatureOptions {
  /**
   * The secret(s) shared with the shop, each `whsec_<base64>`. Any one matching is enough.
   * A secret in another form throws a TypeError (it could never match).
   */
  secret: string | string[];
  /** POST: the request headers (`webhook-id`, `webhook-timestamp`, `webhook-signature`). */
  headers?: Record<string, string | string[] | undefined>;
  /** POST: the raw body, byte for byte as received (not re-serialised JSON). */
  body?: string | Buffer;
  /** GET: the path and query as received (`req.originalUrl`), or the whole URL. */
  url?: string;
  /** GET: what the signature covers, as the shop's `signing.covers`. @default 'path_and_query' */
  covers?: GetSignatureCoverage;
  /** GET: parameter names, if the shop changed them. */
  queryParams?: { id?: string; timestamp?: string; signature?: string };
  /** Largest accepted difference between the signature's timestamp and now. @default 300 */
  toleranceSeconds?: number;
  /** Now, in epoch milliseconds. @default Date.now() */
  now?: number;
}

function header(
  headers: Record<string, string | string[] | undefined>,
  name: string,
): string | undefined {
  const key = Object.keys(headers).find((k) => k.toLowerCase() === name);
  const value = key === undefined ? undefined : headers[key];
  return Array.isArray(value) ? value[0] : value;
}

interface SignedParts {
  id: string;
  timestamp: string;
  signatures: string;
  payload: string | Buffer;
}

function partsFromHeaders(options: VerifyPostbackSignatureOptions): SignedParts | undefined {
  const headers = options.headers ?? {};
  const id = header(headers, 'webhook-id');
  const timestamp = header(headers, 'webhook-timestamp');
  const signatures = header(headers, 'webhook-signature');
  if (!id || !timestamp || !signatures || options.body === undefined) return undefined;
  return { id, timestamp, signatures, payload: options.body };
}

function partsFromUrl(options: VerifyPostbackSignatureOptions): SignedParts | undefined {
  if (!options.url) return undefined;
  const names = { ...DEFAULT_SIGNATURE_QUERY_PARAMS, ...options.queryParams };
  const pathAndQuery = options.url.replace(/^https?:\/\/[^/?#]*/i, '');
  const marker = pathAndQuery.search(new RegExp(`[?&]${escapeRegExp(names.signature)}=`));
  if (marker === -1) return undefined;
  const query = new URL(pathAndQuery, 'http://receiver.invalid').searchParams;
  const id = query.get(names.id);
  const timestamp = query.get(names.timestamp);
  const signatures = query.get(names.signature);
  if (!id || !timestamp || !signatures) return undefined;
  const payload = getSignedPayload(
    pathAndQuery.slice(0, marker),
    options.covers ?? 'path_and_query',
  );
  return { id, timestamp, signatures, payload };
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Checks a postback signed by nestjs-postback, for the service that receives it: a POST's
 * Standard Webhooks headers over the raw body, or a GET's signature parameter over the path
 * and query (or the query alone). Constant-time; refuses timestamps outside the tolerance
 * either way.
 *
 * @publicApi
 */
export function verifyPostbackSignature(options: VerifyPostbackSignatureOptions): boolean {
  // A receiver's misconfigured secret fails loudly on the first request, not as "invalid".
  const keys = [options.secret].flat().map(hmacKey);
  const parts = options.url ? partsFromUrl(options) : partsFromHeaders(options);
  if (!parts || !/^\d{1,12}$/.test(parts.timestamp)) return false;
  const timestamp = Number(parts.timestamp);
  const nowSeconds = Math.floor((options.now ?? Date.now()) / 1000);
  const tolerance = options.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  if (Math.abs(nowSeconds - timestamp) > tolerance) return false;

  const received = parts.signatures.split(' ').filter((s) => s.startsWith('v1,'));
  return keys.some((key) => {
    const expected = Buffer.from(signWithKey(key, parts.id, timestamp, parts.payload));
    return received.some((signature) => {
      const candidate = Buffer.from(signature);
      return candidate.length === expected.length && timingSafeEqual(candidate, expected);
    });
  });
}
