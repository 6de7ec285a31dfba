import { isReversal } from '../common/event-types.js';
import { toMinorUnits } from '../common/minor-units.js';
import type { SigningOptions } from '../interfaces/index.js';
import type { PostbackFields } from './postback-fields.js';
import type { ResolvedTracker } from '../options/resolved-options.js';
import {
  DEFAULT_SIGNATURE_QUERY_PARAMS,
  getSignedPayload,
  signContent,
} from './postback-signature.js';
import { encodeValue, type MacroValues, renderFields, renderUrl } from './postback-template.js';

/** One HTTP request, ready to send. */
export interface PostbackRequest {
  method: 'GET' | 'POST';
  url: string;
  headers: Record<string, string>;
  body?: string;
  /** The URL with token and signature replaced by `[redacted]`, for the attempt log. */
  redactedUrl: string;
}

export const REDACTED = '[redacted]';

/** The value of every macro for one postback. */
export function macroValues(
  tracker: ResolvedTracker,
  fields: PostbackFields,
  eventId: string,
  token: string | undefined,
): MacroValues {
  const builtIn: Record<string, string | undefined> = {
    click_id: fields.clickId,
    payout: fields.payout,
    payout_currency: fields.payoutCurrency,
    amount: fields.amount,
    currency: fields.currency,
    order_id: fields.orderId,
    customer_id: fields.customerId,
    event_type: fields.eventType,
    conversion_id: fields.conversionId,
    event_id: eventId,
    token,
  };
  const forEvent = Object.hasOwn(tracker.eventValues, fields.eventType)
    ? tracker.eventValues[fields.eventType]
    : {};
  return (name) => {
    if (name.startsWith('sub.')) return fields.sub?.[name.slice(4)];
    if (tracker.currency !== undefined && Object.hasOwn(MONEY_MACROS, name)) {
      inReceiverCurrency(tracker, fields, MONEY_MACROS[name]);
    }
    if (Object.hasOwn(builtIn, name)) return builtIn[name];
    // Formatted only when a template asks for them (a Date per postback adds up at speed).
    if (name === 'timestamp') return String(Math.floor(fields.occurredAt / 1000));
    if (name === 'amount_minor') return minorUnits(tracker, fields.amount, fields.currency);
    if (name === 'payout_minor') {
      return minorUnits(tracker, fields.payout, fields.payoutCurrency);
    }
    if (name === 'occurred_at') return new Date(fields.occurredAt).toISOString();
    if (Object.hasOwn(forEvent, name)) return forEvent[name];
    if (Object.hasOwn(tracker.computed, name)) return tracker.computed[name](fields);
    return Object.hasOwn(tracker.values, name) ? tracker.values[name] : undefined;
  };
}

/**
 * Renders a postback for one attempt: the tracker's template over the frozen fields, then the
 * secret token or a signature with this attempt's timestamp (a retry two days later still
 * passes a receiver's ±5 min window). Called at send time, so secrets never reach the database.
 */
export function buildPostbackRequest(
  tracker: ResolvedTracker,
  fields: PostbackFields,
  eventId: string,
  sentAt: number,
): PostbackRequest {
  const real = build(tracker, fields, eventId, sentAt, false);
  // Without a token or signature there is nothing to redact: the URL is its own log entry.
  const redactedUrl = tracker.signing
    ? build(tracker, fields, eventId, sentAt, true).url
    : real.url;
  return { ...real, redactedUrl };
}

function build(
  tracker: ResolvedTracker,
  fields: PostbackFields,
  eventId: string,
  sentAt: number,
  redact: boolean,
): Omit<PostbackRequest, 'redactedUrl'> {
  const signing = tracker.signing;
  const token = signing?.type === 'token' ? (redact ? REDACTED : signing.secret) : undefined;
  const values = macroValues(tracker, fields, eventId, token);
  const timestamp = Math.floor(sentAt / 1000);
  const template =
    tracker.reversalUrl && isReversal(fields.eventType) ? tracker.reversalUrl : tracker.url;

  if (tracker.method === 'GET') {
    const extra =
      token !== undefined && signing?.type === 'token' && signing.param
        ? [`${signing.param}=${encodeValue(token)}`]
        : [];
    if (signing?.type !== 'hmac') {
      return {
        method: 'GET',
        url: renderUrl(template, values, extra),
        headers: authorization(signing, redact),
      };
    }
    const names = { ...DEFAULT_SIGNATURE_QUERY_PARAMS, ...signing.queryParams };
    const unsigned = renderUrl(template, values, [
      ...extra,
      `${names.id}=${encodeValue(eventId)}`,
      `${names.timestamp}=${timestamp}`,
    ]);
    // Sign the path and query exactly as an HTTP client will send them: a template without a
    // path goes out as "/", and a non-ASCII literal percent-encoded.
    const sent = new URL(unsigned);
    const pathAndQuery = `${sent.pathname}${sent.search}`;
    const payload = getSignedPayload(pathAndQuery, signing.covers ?? 'path_and_query');
    const signature = redact ? REDACTED : signContent(signing.secret, eventId, timestamp, payload);
    return {
      method: 'GET',
      url: `${sent.origin}${pathAndQuery}&${names.signature}=${encodeValue(signature)}`,
      headers: {},
    };
  }

  const bodyFields = renderFields(tracker.body, values);
  if (token !== undefined && signing?.type === 'token' && signing.param) {
    bodyFields[signing.param] = token;
  }
  const body =
    tracker.format === 'json'
      ? JSON.stringify(withNumbers(bodyFields, tracker.jsonNumbers))
      : new URLSearchParams(bodyFields).toString();
  const headers: Record<string, string> = {
    'content-type':
      tracker.format === 'json' ? 'application/json' : 'application/x-www-form-urlencoded',
    // The same on every attempt: a receiver that dedupes on it applies a retried POST once.
    'idempotency-key': eventId,
    ...authorization(signing, redact),
  };
  if (signing?.type === 'hmac') {
    headers['webhook-id'] = eventId;
    headers['webhook-timestamp'] = String(timestamp);
    headers['webhook-signature'] = redact
      ? REDACTED
      : signContent(signing.secret, eventId, timestamp, body);
  }
  return { method: 'POST', url: renderUrl(template, values), headers, body };
}

/** The `authorization` header of HTTP authentication (basic, bearer); none for other signings. */
function authorization(
  signing: SigningOptions | undefined,
  redact: boolean,
): Record<string, string> {
  if (signing?.type === 'basic') {
    return { authorization: `Basic ${redact ? REDACTED : basicCredentials(signing)}` };
  }
  if (signing?.type === 'bearer') {
    return { authorization: `Bearer ${redact ? REDACTED : signing.secret}` };
  }
  return {};
}

/** RFC 7617: base64 of `user-id:password`, both as UTF-8. */
export function basicCredentials(signing: { username: string; secret: string }): string {
  return Buffer.from(`${signing.username}:${signing.secret}`, 'utf8').toString('base64');
}

/** The money macros, and which of the fields' amounts each one renders. */
const MONEY_MACROS: Record<string, 'amount' | 'payout'> = {
  amount: 'amount',
  amount_minor: 'amount',
  payout: 'payout',
  payout_minor: 'payout',
};

/**
 * Throws, so the postback is dead-lettered with the reason, when a receiver that reads every
 * amount in one currency (`currency`) would get one in another: it has no way to know, and
 * would record a wrong number (1437 JPY as 1437 USD).
 */
function inReceiverCurrency(
  tracker: ResolvedTracker,
  fields: PostbackFields,
  which: 'amount' | 'payout',
): void {
  const [value, currency] =
    which === 'amount' ? [fields.amount, fields.currency] : [fields.payout, fields.payoutCurrency];
  if (value === undefined || currency === tracker.currency) return;
  throw new Error(
    `the ${which} is ${value} ${currency}, and tracker "${tracker.name}" reads every amount in ${tracker.currency} ` +
      `(currency: '${tracker.currency}'), with no way to be told another currency: record the event in ${tracker.currency}`,
  );
}

/** An amount in the receiver's minor units (`minorUnits`), as an integer string. */
function minorUnits(
  tracker: ResolvedTracker,
  amount: string | undefined,
  currency: string | undefined,
): string | undefined {
  if (amount === undefined || currency === undefined) return undefined;
  return toMinorUnits(amount, currency, tracker.minorUnits);
}

/** A JSON number's text as this module sends one: decimal, at most 15 digits, exact as a double. */
const JSON_NUMBER = /^-?(?=[\d.]{1,16}$)\d+(\.\d+)?$/;

/** The body with the `jsonNumbers` fields as numbers; throws, naming the field, on a non-number. */
function withNumbers(
  fields: Record<string, string>,
  numbers: ReadonlySet<string>,
): Record<string, string | number> {
  if (numbers.size === 0) return fields;
  const typed: Record<string, string | number> = { ...fields };
  for (const name of numbers) {
    const value = fields[name];
    if (value === undefined) continue;
    if (!JSON_NUMBER.test(value)) {
      throw new Error(`body field ${name} must be a number, not "${value.slice(0, 40)}"`);
    }
    // At most 15 significant digits: the double holds them exactly, and JSON prints them back.
    typed[name] = Number(value);
  }
  return typed;
}
