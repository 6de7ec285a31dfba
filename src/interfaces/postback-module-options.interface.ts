import type { RouteInfo } from '@nestjs/common/interfaces/index.js';
import type { Request } from 'express';

import type { RetryOptions } from './retry-options.interface.js';
import type { TrackerOptions } from './tracker-options.interface.js';

/**
 * Options of `PostbackModule.forRoot()` / `forRootAsync()`.
 *
 * @publicApi
 */
export interface PostbackModuleOptions {
  /** The tracking services and networks the shop works with. At least one. */
  trackers: TrackerOptions[];

  /**
   * The shop's own event types, beyond the built-in `purchase`, `registration`, `refund`,
   * `chargeback` and `cancellation` (e.g. `['lead', 'subscription.renewed']`). Declared once,
   * here: a tracker's `events`, `commission` and `eventValues` may name only these and the
   * built-in types, so a misspelled type is an error at start-up rather than a type that
   * never occurs; and `record()` refuses an event of any other type. Declared in
   * `PostbackCustomEventTypes` too, they are checked at compile time as well.
   * @default []
   */
  customEventTypes?: string[];

  /** Landing-page click capture. */
  capture?: ClickCaptureOptions;

  /** Outbox flushing and delivery. */
  outbox?: OutboxOptions;

  /**
   * Names of the Nest events (from `@nestjs/event-emitter`) the module listens to, or
   * `false` to listen to none. Emit them with `emitAsync` to learn the outcome.
   * @default { purchase: 'postback.purchase', registration: 'postback.registration', custom: 'postback.event' }
   */
  events?: false | { purchase?: string; registration?: string; custom?: string };

  /**
   * SQLite only: write the outbox's rounds and the capture buffer's batches on a worker thread
   * with a connection of its own, so that SQLite's work and its fsync never hold the event
   * loop (see the README, Performance). The module's own writes stay serialised, but a host
   * transaction of its own on the same SQLite DataSource that reads and then writes can meet
   * the thread's commit in between and fail with SQLITE_BUSY_SNAPSHOT. Hence the default: on
   * for a database built by `postbackDataSourceOptions()` (the agent's, dedicated to the
   * module), off for a DataSource the host shares with its own entities. Ignored on other
   * engines and on `:memory:`.
   * @default true on a `postbackDataSourceOptions()` database, else false
   */
  sqliteWriterThread?: boolean;

  /**
   * Current time in epoch milliseconds. Tests inject a clock to run multi-day schedules quickly.
   * @default Date.now
   */
  clock?: () => number;
}

/** @publicApi */
export interface ClickCaptureOptions {
  /**
   * Register the capture middleware at all. Turn it off when the shop forwards clicks
   * through `ClickService.capture()` itself.
   * @default true
   */
  enabled?: boolean;

  /**
   * Routes the middleware runs on.
   * @default every GET route
   */
  routes?: (string | RouteInfo)[];

  /**
   * Routes excluded from capture (health checks, assets).
   * @default []
   */
  exclude?: (string | RouteInfo)[];

  /**
   * Keys a visitor when the host has no server session (`req.sessionID`), e.g. from a
   * first-party cookie. Returning `undefined` stores the click without a visitor key; it can
   * still be found by its click ID or, after registration, by the customer.
   * @default req.sessionID
   */
  visitorKey?: (req: Request) => string | undefined;

  /**
   * Key of the HMAC under which visitor keys (the session ID, `visitorKey`'s value, a
   * `sessionKey` given to `record()`) are stored and looked up: never in clear. Without it
   * they are stored as SHA-256, enough for random session IDs but not for guessable keys such
   * as e-mail addresses (a warning says so when `visitorKey` is set). Fill it from the
   * environment (`POSTBACK_VISITOR_KEY_SECRET`). At least 16 characters. The first start
   * records which key the stored digests are made with; a later start with another one (or
   * none) is refused, as its lookups would miss every stored visitor (the README says how to
   * change it on purpose).
   * @default none: SHA-256
   */
  visitorKeySecret?: string;

  /**
   * The logged-in customer of a landing request, if any, so a click by a known customer is
   * linked to them at once.
   * @default none
   */
  customerId?: (req: Request) => string | undefined;

  /**
   * How long captured clicks may wait in memory before they are written, together, in one
   * transaction. A process killed meanwhile loses the clicks of at most this long from the
   * database (they are still in the visitors' sessions, if the session store survives); see
   * the README's "Click capture durability". `0` turns buffering off: each click is written as
   * soon as the database is free (clicks arriving during a write go together in the next).
   * At most 10,000 clicks wait at once; past that a landing keeps its click in the session only.
   * @default 50
   */
  bufferMs?: number;
}

/** @publicApi */
export interface OutboxOptions {
  /**
   * Start the scheduled flusher. Off is for hosts that call `OutboxFlusher.flush()`
   * themselves (and for tests).
   * @default true
   */
  enabled?: boolean;
  /** How often the flusher looks for due postbacks; new conversions also nudge it at once. @default 5000 */
  flushIntervalMs?: number;
  /**
   * Most rows the flusher holds claimed at once. It claims about 200 ms of sends at its recent
   * pace (at least two rounds, 2 × concurrency), so this bounds memory and how much one
   * process can take ahead of others. @default 500
   */
  batchSize?: number;
  /** Postbacks in flight at once per process. @default 8 */
  concurrency?: number;
  /** Whole-attempt timeout (connect, response and body). @default 15000 */
  timeoutMs?: number;
  /** How long a claim holds a row before another worker may take it over. @default 120000 */
  leaseMs?: number;
  /** Response body kept per attempt, in bytes; the rest is not read. @default 1024 */
  responseExcerptBytes?: number;
  /** How long shutdown waits for in-flight sends before releasing them. @default 10000 */
  shutdownGraceMs?: number;
  /** Retry schedule of failed deliveries. */
  retry?: RetryOptions;
  /**
   * Pauses a tracker that keeps failing, so its postbacks wait in the database rather than in
   * send slots; after the cooldown one probe goes out, and success resumes normal sending.
   */
  circuitBreaker?: {
    /** Consecutive failed attempts (no answer, timeout, 408/425/429, 5xx) that open it. @default 5 */
    failureThreshold?: number;
    /** First pause; doubles after each failed probe. @default 30000 */
    cooldownMs?: number;
    /** Longest pause. @default 600000 (10 min) */
    maxCooldownMs?: number;
  };
}
