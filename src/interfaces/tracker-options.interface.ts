import type { PresetName } from '../common/preset-names.js';
import type { PostbackEventType } from './event-types.interface.js';
import type { RetryOptions } from './retry-options.interface.js';

/**
 * A tracking service or affiliate network the shop works with: where its click ID
 * arrives, what its postback looks like, what it pays and how it is secured.
 *
 * @publicApi
 */
export interface TrackerOptions {
  /**
   * Unique name of the tracker in this shop (`[a-z0-9_-]`, at most 64 characters).
   * It is stored with every click and postback, so renaming a tracker orphans its
   * pending postbacks (they are dead-lettered with the reason).
   */
  name: string;

  /**
   * Landing-page query parameter(s) the tracker's click ID arrives in, e.g. `['cid']`
   * for Voluum-style trackers or `['irclickid']` for Impact. The first one present wins.
   * Required unless a preset gives them.
   */
  clickParams?: string[];

  /**
   * Further landing-page query parameters to keep with the click (e.g. `['sub1', 'aff_sub']`),
   * available in the postback template as `{sub.<name>}`.
   * @default []
   */
  subParams?: string[];

  /**
   * Read a raw `+` in this tracker's landing parameters (click and sub-parameters) as a space,
   * as HTML forms, Express and `URLSearchParams` do. Set `false` for a network whose click IDs
   * contain `+` and reach the landing unencoded: `?cid=a+b` is then captured as `a+b`.
   * Percent-escapes are decoded either way (`%2B` is `+`, `%20` a space), in the capture
   * middleware and in the agent's `POST /v1/clicks` alike.
   * @default true
   */
  landingPlusAsSpace?: boolean;

  /**
   * Longest click ID accepted, in characters. Longer values are refused at capture
   * (and logged), never truncated: a truncated click ID would credit nobody.
   * @default 255 (at most 512, the column size)
   */
  maxClickIdLength?: number;

  /**
   * Optional extra rule a click ID must match, e.g. `/^[A-Za-z0-9_-]+$/`. Control
   * characters are always refused, whatever this says.
   */
  clickIdPattern?: RegExp | string;

  /**
   * A built-in network or tracker (`'voluum'`, `'everflow'`, `'keitaro'`…; see the README's
   * preset list): its click parameters, postback template, token parameter and success rule.
   * What is given here overrides the preset field by field: `postback` key by key (its `body`
   * field by field, `null` leaving out one the preset sends), `values` and `eventValues` key by
   * key; a list (`clickParams`, `events`, `postback.jsonNumbers`), a text or a `signing` replaces
   * the preset's whole.
   */
  preset?: PresetName;

  /**
   * How the postback is sent. Required unless a preset gives it; with a preset, only the keys
   * given here replace the preset's (`postback: { url }` keeps its method, format and body).
   */
  postback?: PostbackTemplateOptions;

  /**
   * Static values usable as `{name}` macros in the template (offer ID, goal, network ID…), and
   * as `{{name}}` placeholders, which are filled in once at start-up and may also stand in the
   * host (`https://{{tracking_domain}}/postback`). Names must not shadow a built-in macro.
   * @default {}
   */
  values?: Record<string, string>;

  /**
   * Values that differ by event type, e.g. a network's status or goal code:
   * `{ purchase: { status: 'sale' }, registration: { status: 'lead' } }`. They take precedence
   * over `values` for events of that type.
   * @default {}
   */
  eventValues?: Record<string, Record<string, string>>;

  /**
   * Event types that produce a postback for this tracker. Events of other types are still
   * recorded and attributed, but send nothing.
   * @default every event type but the reversals
   */
  events?: PostbackEventType[];

  /**
   * Report refunds, chargebacks and cancellations of conversions this tracker was credited
   * with, through the same template (a preset sets the network's status codes for them in
   * `eventValues`). Off by default: a tracker without a status parameter would take a
   * reversal for a new sale.
   * @default false
   */
  reversals?: boolean;

  /**
   * A separate URL template for reversals, for networks that take status changes at another
   * endpoint (Scaleo's /track/conv-change). Same rules as `postback.url`.
   * @default postback.url
   */
  reversalPostbackUrl?: string;

  /**
   * Commission rules by event type; the key `'*'` applies to event types without a rule
   * of their own. Without a rule, the `{payout}` macro is empty and a query parameter
   * whose value is only `{payout}` is left out of the postback.
   * @default {}
   */
  commission?: Record<string, CommissionRule>;

  /**
   * How the receiver counts `{amount_minor}` and `{payout_minor}`: `'iso4217'`, the ISO 4217
   * exponent (59.97 EUR is 5997, 1.005 BHD 1005), or `'dub'`, Dub's rule (hundredths of every
   * currency but Dub's zero-decimal list: 1.005 BHD is 100.5, 1000 ISK 100000). Where the
   * receiver's unit is larger than ISO's, the amount is rounded half up to it (1.005 BHD: 101).
   * @default the preset's rule (`'dub'` for Dub), else 'iso4217'
   */
  minorUnits?: 'iso4217' | 'dub';

  /**
   * The one currency the receiver reads amounts in, for a receiver that takes no currency
   * parameter (Everflow: the offer's currency, which its preset requires you to name). Amounts
   * are not converted: a postback whose amount or payout is in another currency is dead-lettered,
   * saying so, rather than reported as a wrong number.
   * @default any currency (the receiver is told it)
   */
  currency?: string;

  /** How the tracker can tell the postback came from this shop. @default none */
  signing?: SigningOptions;

  /**
   * A click older than this (by its last landing) no longer earns a conversion through
   * the session or the customer. An explicit click ID on the event is always honoured.
   * @default 30
   */
  attributionWindowDays?: number;

  /**
   * Decides success beyond the status code, for networks that answer `200` to a refused
   * postback (TUNE answers `success=false;`): the response body must contain this text or
   * match this pattern.
   * @default any 2xx is success
   */
  successBodyMatch?: string | RegExp;

  /** This tracker's retry schedule, over `outbox.retry`. @default outbox.retry */
  retry?: RetryOptions;

  /**
   * Sends to this tracker in flight at once (per process), so that a slow or hanging tracker
   * cannot hold every slot.
   * @default outbox.concurrency with one tracker; half of it (rounded up) with several
   */
  concurrency?: number;
}

/**
 * The postback request. Macros are written `{name}`; see the README for the list.
 *
 * @publicApi
 */
export interface PostbackTemplateOptions {
  /**
   * URL template, e.g. `https://tracker.example/postback?cid={click_id}&payout={payout}`.
   * Macros may stand in the path and in query values, never in the scheme, host or port; the
   * template's own text is percent-encoded (RFC 3986) where its place requires, `%XX` escapes
   * kept. Required unless a preset gives it.
   */
  url?: string;

  /** @default 'GET' */
  method?: 'GET' | 'POST';

  /**
   * Body encoding for POST. With HMAC signing the default is JSON, which every Standard
   * Webhooks library verifies in its default configuration (svix's `verify` parses the body
   * as JSON); a form body verifies with `standardwebhooks` and `jsonParse: false`.
   * @default 'json' with hmac signing, 'form' otherwise
   */
  format?: 'form' | 'json';

  /**
   * Body fields for POST, each a template like `'{click_id}'`. A field whose template is a
   * single macro with no value is left out. Over a preset, the fields given are added to the
   * preset's or replace them one by one, and a field set to `null` is not sent.
   * @default {}
   */
  body?: Record<string, string | null>;
  /**
   * Body fields sent as JSON numbers rather than strings, for APIs that want them typed
   * (Dub's `amount`, with `{amount_minor}`). The rendered value must be a decimal number of at
   * most 15 digits, or the attempt fails, saying so. Only with method POST and format json.
   * Over a preset, replaces the preset's list; left out, the preset's stays (less the fields
   * `body` sets to `null`).
   * @default []
   */
  jsonNumbers?: string[];
}

/**
 * Commission due for one event type. Amounts are decimal strings (`'12.50'`), never floats.
 *
 * @publicApi
 */
export type CommissionRule =
  | {
      /** A fixed commission, e.g. `'2.00'`. */
      fixed: string;
      /** Currency of the fixed amount. @default the event's currency */
      currency?: string;
    }
  | {
      /** Percentage of the order amount, e.g. `'7.5'` for 7.5 %. */
      percent: string;
      /** Lower bound, in the order currency. */
      min?: string;
      /** Upper bound, in the order currency. */
      max?: string;
    };

/**
 * Secret values are read from the environment by the caller (the agent reads the variable
 * named in its config file); they are applied at send time and never stored or logged.
 *
 * @publicApi
 */
export type SigningOptions =
  | {
      /** A static secret token sent as a query parameter (what most networks expect). */
      type: 'token';
      /** Query parameter (GET) or body field (POST) that carries the token. Leave out when the template places `{token}` itself. */
      param?: string;
      secret: string;
    }
  | {
      /**
       * HMAC-SHA256 with a timestamp: Standard Webhooks headers for POST, query
       * parameters for GET. See `verifyPostbackSignature()` and the README.
       */
      type: 'hmac';
      /**
       * Signing secret(s) in the Standard Webhooks format, `whsec_` + base64 of at least 24
       * bytes (`npx nestjs-postback secret` makes one), the only form the official libraries
       * verify. Give two during a rotation; every one signs, and a receiver holding either
       * verifies.
       */
      secret: string | string[];
      /**
       * What a GET signature covers: the path and query as sent, or only the query, for a
       * receiver behind a proxy that rewrites the path (nginx `proxy_pass` with a URI decodes
       * `%2F`, `%2B`, `%26`, `%3D` in it). With `'query'` the path is not signed: keep every
       * value in the query. See docs/verifying-postbacks.md.
       * @default 'path_and_query'
       */
      covers?: 'path_and_query' | 'query';
      /** Query parameter names used for GET. @default { id: 'pb_id', timestamp: 'pb_ts', signature: 'pb_sig' } */
      queryParams?: { id?: string; timestamp?: string; signature?: string };
    }
  | {
      /**
       * HTTP Basic authentication (`Authorization: Basic …`), for networks that take
       * conversions through an authenticated API: Impact's Account SID and Auth Token.
       */
      type: 'basic';
      /** The user name (Impact: the Account SID). Not a secret: it may sit in a config file. */
      username: string;
      /** The password (Impact: the Auth Token). */
      secret: string;
    }
  | {
      /** A bearer token (`Authorization: Bearer <secret>`): an API key. */
      type: 'bearer';
      secret: string;
    };
