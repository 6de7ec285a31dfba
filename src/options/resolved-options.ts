import type { RouteInfo } from '@nestjs/common/interfaces/index.js';
import type { Request } from 'express';

import type { MinorUnitRule } from '../common/minor-units.js';
import type { Clock } from '../common/clock.js';
import { isReversal } from '../common/event-types.js';
import type { CommissionRule, RetryOptions, SigningOptions } from '../interfaces/index.js';
import type { PostbackFields } from '../postback/postback-fields.js';
import type { TemplatePart, UrlTemplate } from '../postback/postback-template.js';

/** A retry schedule with its defaults filled in; no `maxAgeMs`: the schedule's span. */
export type ResolvedRetry = Required<Omit<RetryOptions, 'maxAgeMs'>> &
  Pick<RetryOptions, 'maxAgeMs'>;

export interface ResolvedTracker {
  name: string;
  preset?: string;
  clickParams: string[];
  subParams: string[];
  /** A raw `+` in a landing parameter is a space (form decoding); false keeps it a `+`. */
  landingPlusAsSpace: boolean;
  maxClickIdLength: number;
  clickIdPattern?: RegExp;
  method: 'GET' | 'POST';
  format: 'form' | 'json';
  url: UrlTemplate;
  /** Where reversals go, when not to `url`. */
  reversalUrl?: UrlTemplate;
  body: Record<string, TemplatePart[]>;
  /** How the receiver counts `{amount_minor}` and `{payout_minor}`. */
  minorUnits: MinorUnitRule;
  /** The one currency the receiver reads amounts in, when it takes no currency parameter. */
  currency?: string;
  /** JSON body fields sent as numbers (`postback.jsonNumbers`). */
  jsonNumbers: ReadonlySet<string>;
  values: Record<string, string>;
  eventValues: Record<string, Record<string, string>>;
  /** Macros a preset builds from several fields. */
  computed: Record<string, (fields: PostbackFields) => string | undefined>;
  /** Undefined: every event type but the reversals is posted. */
  events?: Set<string>;
  reversals: boolean;
  commission: Record<string, CommissionRule>;
  signing?: SigningOptions;
  attributionWindowMs: number;
  successBodyMatch?: string | RegExp;
  retry: ResolvedRetry;
  concurrency: number;
}

export interface ResolvedOutboxOptions {
  enabled: boolean;
  flushIntervalMs: number;
  batchSize: number;
  concurrency: number;
  timeoutMs: number;
  leaseMs: number;
  responseExcerptBytes: number;
  shutdownGraceMs: number;
  retry: ResolvedRetry;
  circuitBreaker: { failureThreshold: number; cooldownMs: number; maxCooldownMs: number };
}

export interface ResolvedPostbackOptions {
  trackers: Map<string, ResolvedTracker>;
  /** The shop's own event types (`customEventTypes`). */
  customEventTypes: string[];
  capture: {
    enabled: boolean;
    /** Undefined: every GET (and HEAD) request, the default. */
    routes?: (string | RouteInfo)[];
    exclude: (string | RouteInfo)[];
    visitorKey: (req: Request) => string | undefined;
    visitorKeySecret?: string;
    customerId: (req: Request) => string | undefined;
    bufferMs: number;
  };
  outbox: ResolvedOutboxOptions;
  events: false | { purchase: string; registration: string; custom: string };
  clock: Clock;
}

export const DEFAULT_RETRY: ResolvedRetry = {
  maxAttempts: 14,
  initialDelayMs: 10_000,
  multiplier: 3,
  maxDelayMs: 12 * 60 * 60 * 1000,
  jitter: 0.2,
  retryAfterCapMs: 60 * 60 * 1000,
  permanentFailureAttempts: 1,
};

/** Whether an event of this type, credited to this tracker, is reported to it. */
export function postsEvent(tracker: ResolvedTracker, type: string): boolean {
  if (isReversal(type)) return tracker.reversals && (!tracker.events || tracker.events.has(type));
  return !tracker.events || tracker.events.has(type);
}
