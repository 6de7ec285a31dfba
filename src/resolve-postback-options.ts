import type { RouteInfo } from '@nestjs/common/interfaces/index.js';
import type { Request } from 'express';

import { type Clock, systemClock } from './common/clock.js';
import { amountProblem, isCurrencyCode, isDecimalString } from './common/money.js';
import type {
  CommissionRule,
  PostbackModuleOptions,
  SigningOptions,
  TrackerOptions,
} from './interfaces/index.js';
import { isReversal, REVERSAL_TYPES } from './conversion/dto/conversion-event.dto.js';
import type { PostbackFields } from './outbox/postback.entity.js';
import type { ResolvedRetry } from './outbox/backoff.js';
import { applyPreset, placeholderHelp } from './postback/presets/apply-preset.js';
import { POSTBACK_PRESETS } from './postback/presets/index.js';
import {
  CLICK_ID_COLUMN_LENGTH,
  DEFAULT_ATTRIBUTION_WINDOW_DAYS,
  DEFAULT_CLICK_BUFFER_MS,
  MAX_CLICK_BUFFER_MS,
  DEFAULT_MAX_CLICK_ID_LENGTH,
} from './postback.constants.js';
import { PostbackConfigurationError } from './postback-configuration.error.js';
import { DEFAULT_SIGNATURE_QUERY_PARAMS } from './postback/postback-signature.js';
import {
  macrosOf,
  parseParts,
  parseUrlTemplate,
  type TemplatePart,
  type UrlTemplate,
  urlTemplateMacros,
} from './postback/postback-template.js';

/** Macros every tracker can use; `sub.<param>`, static values and `token` come on top. */
export const BUILT_IN_MACROS = [
  'click_id',
  'payout',
  'payout_currency',
  'amount',
  'currency',
  'order_id',
  'customer_id',
  'event_type',
  'conversion_id',
  'event_id',
  'timestamp',
  'occurred_at',
  'amount_minor',
  'payout_minor',
] as const;

export interface ResolvedTracker {
  name: string;
  preset?: string;
  clickParams: string[];
  subParams: string[];
  maxClickIdLength: number;
  clickIdPattern?: RegExp;
  method: 'GET' | 'POST';
  format: 'form' | 'json';
  url: UrlTemplate;
  /** Where reversals go, when not to `url`. */
  reversalUrl?: UrlTemplate;
  body: Record<string, TemplatePart[]>;
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
  capture: {
    enabled: boolean;
    /** Undefined: every GET (and HEAD) request, the default. */
    routes?: (string | RouteInfo)[];
    exclude: (string | RouteInfo)[];
    visitorKey: (req: Request) => string | undefined;
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

const TRACKER_NAME = /^[a-z0-9_-]{1,64}$/;
const PARAM_NAME = /^[A-Za-z0-9_.\-[\]]{1,64}$/;
const VALUE_NAME = /^[a-z_][a-z0-9_]*$/;
const DAY_MS = 24 * 60 * 60 * 1000;

function sessionIdOf(req: Request): string | undefined {
  return (req as Request & { sessionID?: string }).sessionID;
}

/**
 * Validates the options and fills in defaults, collecting every problem so the merchant
 * fixes the whole configuration in one go. Throws `PostbackConfigurationError`.
 */
export function resolvePostbackOptions(options: PostbackModuleOptions): ResolvedPostbackOptions {
  const problems: string[] = [];
  const trackers = new Map<string, ResolvedTracker>();
  const paramOwners = new Map<string, string>();

  if (!Array.isArray(options?.trackers) || options.trackers.length === 0) {
    problems.push('at least one tracker must be configured (options.trackers)');
  }
  const outbox = resolveOutbox(options?.outbox ?? {}, (p) => problems.push(`outbox: ${p}`));
  for (const [index, tracker] of (options?.trackers ?? []).entries()) {
    const label = `tracker "${tracker?.name ?? `#${index}`}"`;
    const defaultConcurrency =
      options.trackers.length > 1 ? Math.ceil(outbox.concurrency / 2) : outbox.concurrency;
    const resolved = resolveTracker(tracker, outbox.retry, defaultConcurrency, (p) =>
      problems.push(`${label}: ${p}`),
    );
    if (!resolved) continue;
    if (trackers.has(resolved.name)) problems.push(`${label}: the name is used twice`);
    for (const param of resolved.clickParams) {
      const owner = paramOwners.get(param);
      if (owner && owner !== resolved.name) {
        problems.push(
          `${label}: click parameter "${param}" is also tracker "${owner}"'s; a landing could not tell them apart`,
        );
      }
      paramOwners.set(param, resolved.name);
    }
    trackers.set(resolved.name, resolved);
  }

  const capture = options?.capture ?? {};
  const bufferMs = capture.bufferMs ?? DEFAULT_CLICK_BUFFER_MS;
  if (typeof bufferMs !== 'number' || !(bufferMs >= 0 && bufferMs <= MAX_CLICK_BUFFER_MS)) {
    problems.push(
      `capture: bufferMs must be a number of milliseconds from 0 (no buffering) to ${MAX_CLICK_BUFFER_MS}`,
    );
  }

  if (problems.length > 0) throw new PostbackConfigurationError(problems);

  const events =
    options.events === false
      ? false
      : {
          purchase: 'postback.purchase',
          registration: 'postback.registration',
          custom: 'postback.event',
          ...options.events,
        };
  return {
    trackers,
    capture: {
      enabled: capture.enabled ?? true,
      routes: capture.routes,
      exclude: capture.exclude ?? [],
      visitorKey: capture.visitorKey ?? sessionIdOf,
      customerId: capture.customerId ?? (() => undefined),
      bufferMs,
    },
    outbox,
    events,
    clock: options.clock ? { now: options.clock } : systemClock,
  };
}

function resolveTracker(
  tracker: TrackerOptions,
  outboxRetry: ResolvedRetry,
  defaultConcurrency: number,
  problem: (text: string) => void,
): ResolvedTracker | undefined {
  if (!tracker || typeof tracker !== 'object') {
    problem('must be an object');
    return undefined;
  }
  const found: string[] = [];
  const counted = (text: string) => found.push(text);
  const raw = tracker;
  const applied = applyPreset(tracker, counted);
  if (!applied) {
    // An unknown preset: everything else would only be follow-on noise.
    found.forEach(problem);
    return undefined;
  }
  tracker = applied;
  if (typeof tracker.name !== 'string' || !TRACKER_NAME.test(tracker.name)) {
    counted('name must be 1-64 characters of a-z, 0-9, "_" or "-"');
  }
  const clickParams = tracker.clickParams ?? [];
  if (!Array.isArray(clickParams) || clickParams.length === 0) {
    counted('clickParams must name at least one landing-page query parameter');
  }
  const subParams = tracker.subParams ?? [];
  for (const param of [...clickParams, ...subParams]) {
    if (typeof param !== 'string' || !PARAM_NAME.test(param)) {
      counted(`"${param}" is not a valid query parameter name`);
    }
  }
  const maxClickIdLength = tracker.maxClickIdLength ?? DEFAULT_MAX_CLICK_ID_LENGTH;
  if (
    !Number.isInteger(maxClickIdLength) ||
    maxClickIdLength < 1 ||
    maxClickIdLength > CLICK_ID_COLUMN_LENGTH
  ) {
    counted(`maxClickIdLength must be a whole number from 1 to ${CLICK_ID_COLUMN_LENGTH}`);
  }
  let clickIdPattern: RegExp | undefined;
  try {
    const pattern = tracker.clickIdPattern;
    // Keep a RegExp's own flags (an /i must stay case-insensitive) but drop g and y, whose
    // lastIndex state would make test() alternate between true and false.
    clickIdPattern =
      pattern === undefined
        ? undefined
        : typeof pattern === 'string'
          ? new RegExp(pattern, 'u')
          : new RegExp(pattern.source, pattern.flags.replace(/[gy]/g, ''));
  } catch (error) {
    counted(`clickIdPattern is not a valid regular expression: ${(error as Error).message}`);
  }

  const values = tracker.values ?? {};
  const eventValues = tracker.eventValues ?? {};
  const checkValues = (label: string, entries: Record<string, string>) => {
    for (const [name, value] of Object.entries(entries)) {
      if (
        !VALUE_NAME.test(name) ||
        (BUILT_IN_MACROS as readonly string[]).includes(name) ||
        name === 'token'
      ) {
        counted(`${label}.${name}: the name must be lowercase [a-z0-9_] and not a built-in macro`);
      }
      if (typeof value !== 'string') counted(`${label}.${name} must be a string`);
    }
  };
  checkValues('values', values);
  for (const [type, entries] of Object.entries(eventValues))
    checkValues(`eventValues.${type}`, entries);
  const computed = (tracker.preset && POSTBACK_PRESETS.get(tracker.preset)?.computed) || {};
  const valueNames = new Set([
    ...Object.keys(values),
    ...Object.values(eventValues).flatMap(Object.keys),
    ...Object.keys(computed),
  ]);
  const fill = (text: string, where: string) =>
    fillPlaceholders(text, values, (name, why) =>
      counted(
        `${where}: {{${name}}} ${why}${placeholderHelp(raw, name) ? ` (${placeholderHelp(raw, name)})` : ''}`,
      ),
    );

  const postback = tracker.postback;
  const method = postback?.method ?? 'GET';
  const format = postback?.format ?? 'form';
  let url: UrlTemplate | undefined;
  const body: Record<string, TemplatePart[]> = {};
  if (!postback || typeof postback.url !== 'string') {
    counted('postback.url is required (or a preset that gives one)');
  } else {
    try {
      url = parseUrlTemplate(fill(postback.url, 'postback.url'));
    } catch (error) {
      counted(`postback.url: ${(error as Error).message}`);
    }
    for (const [field, template] of Object.entries(postback.body ?? {})) {
      try {
        body[field] = parseParts(fill(String(template), `postback.body.${field}`));
      } catch (error) {
        counted(`postback.body.${field}: ${(error as Error).message}`);
      }
    }
  }
  if (method !== 'GET' && method !== 'POST') counted('postback.method must be GET or POST');
  if (format !== 'form' && format !== 'json') counted('postback.format must be form or json');
  if (method === 'GET' && Object.keys(body).length > 0) {
    counted('postback.body is only sent with method POST');
  }
  const jsonNumbers = new Set(postback?.jsonNumbers ?? []);
  if (jsonNumbers.size > 0 && (method !== 'POST' || format !== 'json')) {
    counted('postback.jsonNumbers is only for a POST with format json');
  }
  for (const field of jsonNumbers) {
    if (!Object.hasOwn(body, field))
      counted(`postback.jsonNumbers: "${field}" is not a body field`);
  }

  const signing = tracker.signing;
  checkSigning(signing, method, counted);
  let reversalUrl: UrlTemplate | undefined;
  if (tracker.reversalPostbackUrl !== undefined) {
    try {
      reversalUrl = parseUrlTemplate(fill(tracker.reversalPostbackUrl, 'reversalPostbackUrl'));
    } catch (error) {
      counted(`reversalPostbackUrl: ${(error as Error).message}`);
    }
  }
  const usedMacros = [
    ...(reversalUrl ? urlTemplateMacros(reversalUrl) : []),
    ...(url ? urlTemplateMacros(url) : []),
    ...Object.values(body).flatMap(macrosOf),
  ];
  for (const macro of new Set(usedMacros)) {
    const problemText = macroProblem(macro, subParams, valueNames, signing);
    if (problemText) counted(problemText);
  }
  const credential = signing && SENT_AS_IS[signing.type];
  for (const template of [url, reversalUrl]) {
    if (
      credential &&
      template &&
      /^http:/i.test(template.origin) &&
      !isLoopbackOrigin(template.origin)
    ) {
      counted(
        `the ${credential} would travel over plain HTTP, readable by anyone on the way: use an https:// postback URL`,
      );
      break;
    }
  }
  if (tracker.reversals) {
    reversalProblems(tracker, reversalUrl ?? url, eventValues).forEach(counted);
  }
  if (signing?.type === 'token' && !signing.param && !usedMacros.includes('token')) {
    counted(
      'signing: a token needs signing.param or a {token} macro in the template, or it is never sent',
    );
  }

  const commission = tracker.commission ?? {};
  for (const [eventType, rule] of Object.entries(commission)) {
    const ruleProblem = commissionRuleProblem(rule);
    if (ruleProblem) counted(`commission.${eventType}: ${ruleProblem}`);
  }
  const windowDays = tracker.attributionWindowDays ?? DEFAULT_ATTRIBUTION_WINDOW_DAYS;
  if (!(typeof windowDays === 'number' && windowDays > 0)) {
    counted('attributionWindowDays must be a positive number');
  }
  if (tracker.events !== undefined && !Array.isArray(tracker.events)) {
    counted('events must be a list of event types');
  }
  const retry = { ...outboxRetry, ...tracker.retry };
  retryProblems(retry).forEach((p) => counted(`retry: ${p}`));
  const concurrency = tracker.concurrency ?? defaultConcurrency;
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    counted('concurrency must be a whole number of at least 1');
  }

  found.forEach(problem);
  if (found.length > 0 || !url) return undefined;
  return {
    name: tracker.name,
    preset: tracker.preset,
    clickParams,
    subParams,
    maxClickIdLength,
    clickIdPattern,
    method,
    format,
    url,
    reversalUrl,
    body,
    jsonNumbers,
    values,
    eventValues,
    computed,
    events: tracker.events ? new Set(tracker.events) : undefined,
    reversals: tracker.reversals ?? false,
    commission,
    signing,
    attributionWindowMs: windowDays * DAY_MS,
    // Without g and y, whose lastIndex state would make every other match fail.
    successBodyMatch:
      tracker.successBodyMatch instanceof RegExp
        ? new RegExp(
            tracker.successBodyMatch.source,
            tracker.successBodyMatch.flags.replace(/[gy]/g, ''),
          )
        : tracker.successBodyMatch,
    retry,
    concurrency,
  };
}

function macroProblem(
  macro: string,
  subParams: string[],
  values: Set<string>,
  signing: SigningOptions | undefined,
): string | undefined {
  if ((BUILT_IN_MACROS as readonly string[]).includes(macro)) return undefined;
  if (macro.startsWith('sub.')) {
    const param = macro.slice(4);
    return subParams.includes(param)
      ? undefined
      : `{${macro}} is never filled: add "${param}" to subParams`;
  }
  if (macro === 'token') {
    return signing?.type === 'token' ? undefined : '{token} needs signing of type "token"';
  }
  if (values.has(macro)) return undefined;
  return `unknown macro {${macro}}; known: ${[...BUILT_IN_MACROS, 'token', 'sub.<param>', ...values].join(', ')}`;
}

function checkSigning(
  signing: SigningOptions | undefined,
  method: string,
  problem: (text: string) => void,
): void {
  if (signing === undefined) return;
  const secrets = [signing.secret].flat();
  if (secrets.length === 0 || secrets.some((s) => typeof s !== 'string' || s.length === 0)) {
    // Never echo the value: only say that it is missing.
    problem('signing.secret is empty (is its environment variable set?)');
  }
  if (signing.type === 'token') {
    if (signing.param !== undefined && !PARAM_NAME.test(signing.param)) {
      problem('signing.param is not a valid parameter name');
    }
    if (secrets.length > 1) problem('a token signing takes exactly one secret');
  } else if (signing.type === 'hmac') {
    if (secrets.some((s) => typeof s === 'string' && s.length > 0 && s.length < 16)) {
      problem('signing.secret of an HMAC signature must be at least 16 characters');
    }
    if (method === 'GET') {
      const names = { ...DEFAULT_SIGNATURE_QUERY_PARAMS, ...signing.queryParams };
      if (Object.values(names).some((n) => !PARAM_NAME.test(n))) {
        problem('signing.queryParams must be valid parameter names');
      }
    }
  } else if (signing.type === 'basic') {
    // RFC 7617: the user-id cannot hold a colon, which separates it from the password.
    if (typeof signing.username !== 'string' || !/^[^:\p{Cc}]+$/u.test(signing.username)) {
      problem('signing.username must be a non-empty name without ":" or control characters');
    }
    if (secrets.length > 1) problem('a basic signing takes exactly one secret');
  } else if (signing.type === 'bearer') {
    if (secrets.length > 1) problem('a bearer signing takes exactly one secret');
  } else {
    problem('signing.type must be "token", "hmac", "basic" or "bearer"');
  }
  if (
    (signing.type === 'basic' || signing.type === 'bearer') &&
    secrets.some((s) => typeof s === 'string' && /\p{Cc}/u.test(s))
  ) {
    // A header cannot carry them: every send would fail. (The value itself is never echoed.)
    problem('signing.secret holds control characters (a line break?), which no header can carry');
  }
}

/** What a signing sends unchanged with every request, by type: unsafe over plain HTTP. */
const SENT_AS_IS: Partial<Record<SigningOptions['type'], string>> = {
  token: 'token',
  basic: 'password',
  bearer: 'bearer token',
};

function commissionRuleProblem(rule: CommissionRule): string | undefined {
  if (!rule || typeof rule !== 'object') return 'must be { fixed } or { percent }';
  if ('fixed' in rule) {
    if (rule.currency !== undefined && !isCurrencyCode(rule.currency)) {
      return `"${rule.currency}" is not an ISO 4217 currency code`;
    }
    if (typeof rule.fixed !== 'string') return 'fixed must be a decimal string such as "2.00"';
    return rule.currency
      ? amountProblem(rule.fixed, rule.currency)
      : isDecimalString(rule.fixed)
        ? undefined
        : 'fixed must be a decimal string such as "2.00"';
  }
  if ('percent' in rule) {
    for (const key of ['percent', 'min', 'max'] as const) {
      const value = rule[key];
      if (value !== undefined && (typeof value !== 'string' || !isDecimalString(value))) {
        return `${key} must be a non-negative decimal string such as "7.5"`;
      }
    }
    if (Number(rule.percent) > 100) return 'percent cannot exceed 100';
    if (rule.min !== undefined && rule.max !== undefined && Number(rule.min) > Number(rule.max)) {
      return 'min is greater than max';
    }
    return undefined;
  }
  return 'must be { fixed } or { percent }';
}

function resolveOutbox(
  outbox: NonNullable<PostbackModuleOptions['outbox']>,
  problem: (text: string) => void,
): ResolvedOutboxOptions {
  const resolved: ResolvedOutboxOptions = {
    enabled: outbox.enabled ?? true,
    flushIntervalMs: outbox.flushIntervalMs ?? 5_000,
    batchSize: outbox.batchSize ?? 500,
    concurrency: outbox.concurrency ?? 8,
    timeoutMs: outbox.timeoutMs ?? 15_000,
    leaseMs: outbox.leaseMs ?? 120_000,
    responseExcerptBytes: outbox.responseExcerptBytes ?? 1024,
    shutdownGraceMs: outbox.shutdownGraceMs ?? 10_000,
    retry: { ...DEFAULT_RETRY, ...outbox.retry },
    circuitBreaker: {
      failureThreshold: 5,
      cooldownMs: 30_000,
      maxCooldownMs: 10 * 60_000,
      ...outbox.circuitBreaker,
    },
  };
  const positive = resolved as unknown as Record<string, unknown>;
  for (const key of [
    'flushIntervalMs',
    'batchSize',
    'concurrency',
    'timeoutMs',
    'leaseMs',
    'responseExcerptBytes',
  ]) {
    const value = positive[key];
    if (typeof value !== 'number' || !(value > 0)) problem(`${key} must be a positive number`);
  }
  retryProblems(resolved.retry).forEach((p) => problem(`retry: ${p}`));
  for (const [key, value] of Object.entries(resolved.circuitBreaker)) {
    if (typeof value !== 'number' || !(value > 0))
      problem(`circuitBreaker.${key} must be a positive number`);
  }
  if (resolved.leaseMs <= resolved.timeoutMs) {
    problem('leaseMs must be longer than timeoutMs, or a lease could expire during a send');
  }
  return resolved;
}

function retryProblems(retry: ResolvedRetry): string[] {
  const problems: string[] = [];
  if (retry.maxAgeMs !== undefined && !(typeof retry.maxAgeMs === 'number' && retry.maxAgeMs > 0))
    problems.push('maxAgeMs must be a positive number');
  for (const key of ['maxAttempts', 'initialDelayMs', 'maxDelayMs', 'retryAfterCapMs'] as const) {
    if (typeof retry[key] !== 'number' || !(retry[key] > 0))
      problems.push(`${key} must be a positive number`);
  }
  if (!(retry.multiplier >= 1)) problems.push('multiplier must be at least 1');
  if (!(retry.jitter >= 0 && retry.jitter < 1))
    problems.push('jitter must be at least 0 and below 1');
  const permanent = retry.permanentFailureAttempts;
  if (!Number.isInteger(permanent) || permanent < 1 || permanent > 3) {
    problems.push('permanentFailureAttempts must be 1, 2 or 3');
  }
  return problems;
}

/** Characters a `{{placeholder}}` value may have: it lands unencoded, possibly in the host. */
const PLACEHOLDER_VALUE = /^[A-Za-z0-9._~-]+$/;

/** Fills `{{name}}` from the tracker's values, once, at start-up. */
function fillPlaceholders(
  text: string,
  values: Record<string, string>,
  problem: (name: string, why: string) => void,
): string {
  return text.replace(/\{\{([a-z_][a-z0-9_]*)\}\}/g, (_match, name: string) => {
    const value = Object.hasOwn(values, name) ? values[name] : undefined;
    if (value === undefined) {
      problem(name, `is not filled in: set values.${name}`);
      return 'placeholder.invalid';
    }
    if (!PLACEHOLDER_VALUE.test(value)) {
      problem(name, `must be letters, digits, ".", "_", "~" or "-" to stand in a URL`);
      return 'placeholder.invalid';
    }
    return value;
  });
}

/** Local test receivers may use plain HTTP; nothing else that carries a secret may. */
function isLoopbackOrigin(origin: string): boolean {
  const host = new URL(origin).hostname;
  return host === 'localhost' || host === '[::1]' || /^127\./.test(host);
}

/** Whether an event of this type, credited to this tracker, is reported to it. */
export function postsEvent(tracker: ResolvedTracker, type: string): boolean {
  if (isReversal(type)) return tracker.reversals && (!tracker.events || tracker.events.has(type));
  return !tracker.events || tracker.events.has(type);
}

/**
 * Reversals go through a template that must tell them from a sale, or a refund would reach
 * the network as a new conversion: some macro of it gets a value for each reversal type from
 * eventValues (a status code), or it carries {event_type}.
 */
function reversalProblems(
  tracker: TrackerOptions,
  template: UrlTemplate | undefined,
  eventValues: Record<string, Record<string, string>>,
): string[] {
  const types = REVERSAL_TYPES.filter((type) => !tracker.events || tracker.events.includes(type));
  if (types.length === 0) {
    return ['reversals is on, but events lists none of refund, chargeback, cancellation'];
  }
  if (!template) return [];
  const macros = urlTemplateMacros(template);
  if (macros.includes('event_type')) return [];
  return types
    .filter((type) => !macros.some((macro) => Object.hasOwn(eventValues[type] ?? {}, macro)))
    .map(
      (type) =>
        `reversals: nothing in the template tells a ${type} from a sale (give eventValues.${type} a status the template uses, or use {event_type}); the network would count it as a new conversion`,
    );
}
