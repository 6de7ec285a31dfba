/** @internal Options after validation, defaults and template compilation. */
export const POSTBACK_RESOLVED_OPTIONS = 'POSTBACK:RESOLVED_OPTIONS';
/** @internal The clock every time-dependent provider reads. */
export const POSTBACK_CLOCK = 'POSTBACK:CLOCK';

/**
 * The environment variable holding the key of visitor-key hashes: the agent passes it as
 * `capture.visitorKeySecret`, and a host may fill that option from it.
 */
export const VISITOR_KEY_SECRET_ENV = 'POSTBACK_VISITOR_KEY_SECRET';

/** Key under which captured clicks live in `req.session`. */
export const SESSION_CLICKS_KEY = 'postbackClicks';

export const FLUSH_INTERVAL_NAME = 'postback-outbox-flush';

export const DEFAULT_ATTRIBUTION_WINDOW_DAYS = 30;
/** How long captured clicks wait in memory to be written together (`capture.bufferMs`). */
export const DEFAULT_CLICK_BUFFER_MS = 50;
/** Longest `capture.bufferMs`: what a crash can lose grows with it. */
export const MAX_CLICK_BUFFER_MS = 60_000;
export const DEFAULT_MAX_CLICK_ID_LENGTH = 255;
/** Size of the click_id column; `maxClickIdLength` cannot exceed it. */
export const CLICK_ID_COLUMN_LENGTH = 512;
export const SUB_PARAM_MAX_LENGTH = 255;
export const LANDING_PATH_MAX_LENGTH = 2048;
/** Longest landing URL `POST /v1/clicks` takes (query included). */
export const LANDING_URL_MAX_LENGTH = 8192;
export const REFERENCE_MAX_LENGTH = 255;

/**
 * The `@nestjs/event-emitter` events the module listens to, unless the `events` option
 * renames them.
 *
 * @publicApi
 */
export const POSTBACK_EVENTS = {
  purchase: 'postback.purchase',
  registration: 'postback.registration',
  custom: 'postback.event',
} as const;
