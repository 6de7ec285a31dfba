import type { TrackerOptions } from '../interfaces/index.js';
import type { ResolvedRetry } from './resolved-options.js';
import { isLoopbackUrl } from '../common/loopback.js';
import { applyPreset, placeholderHelp } from '../postback/presets/apply-preset.js';
import { POSTBACK_PRESETS } from '../postback/presets/index.js';
import {
  macrosOf,
  parseParts,
  parseUrlTemplate,
  type TemplatePart,
  type UrlTemplate,
  urlTemplateMacros,
} from '../postback/postback-template.js';
import {
  DEFAULT_ATTRIBUTION_WINDOW_DAYS,
  DEFAULT_MAX_CLICK_ID_LENGTH,
} from '../postback.constants.js';
import type { ResolvedTracker } from './resolved-options.js';
import {
  fillPlaceholders,
  macroProblem,
  reversalProblems,
  SENT_AS_IS,
} from './tracker-templates.js';
import { retryBoundsProblem } from './delay-bounds.js';
import { placeholdersOf, unusedValueProblems } from './unused-values.js';

const DAY_MS = 24 * 60 * 60 * 1000;

/** What a tracker gets for each option it leaves out (the retry schedule: the outbox's). */
export const TRACKER_DEFAULTS = {
  method: 'GET',
  landingPlusAsSpace: true,
  maxClickIdLength: DEFAULT_MAX_CLICK_ID_LENGTH,
  minorUnits: 'iso4217',
  reversals: false,
  attributionWindowDays: DEFAULT_ATTRIBUTION_WINDOW_DAYS,
} as const;

type Report = (text: string) => void;
/** A tracker with its preset applied: what the checks below read. */
type Applied = NonNullable<ReturnType<typeof applyPreset>>;
type Fill = (text: string, where: string) => string;

/** The tracker's templates, compiled; `failed` when one did not parse. */
interface CompiledTemplates {
  url?: UrlTemplate;
  body: Record<string, TemplatePart[]>;
  reversalUrl?: UrlTemplate;
  failed: boolean;
}

/**
 * A tracker whose shape the schema has accepted, with its preset applied, its templates
 * compiled and its defaults filled in; or undefined, each problem reported. What is checked
 * here depends on the preset or on several fields at once: macros against values and
 * subParams, placeholders, credentials over plain HTTP, reversals.
 */
export function resolveTracker(
  own: TrackerOptions,
  outboxRetry: ResolvedRetry,
  defaultConcurrency: number,
  problem: Report,
): ResolvedTracker | undefined {
  const found: string[] = [];
  const counted: Report = (text) => found.push(text);
  const tracker = applyPreset(own, counted);
  if (!tracker) {
    // An unknown preset: everything else would only be follow-on noise.
    found.forEach(problem);
    return undefined;
  }
  if ((tracker.clickParams ?? []).length === 0) {
    counted('clickParams must name at least one landing-page query parameter');
  }
  const clickIdPattern = clickIdPatternOf(tracker, counted);
  const values = tracker.values ?? {};
  const fill: Fill = (text, where) =>
    fillPlaceholders(text, values, (name, why) => {
      const help = placeholderHelp(own, name);
      counted(`${where}: {{${name}}} ${why}${help ? ` (${help})` : ''}`);
    });
  const templates = compileTemplates(own, tracker, fill, counted);
  templateProblems(own, tracker, templates, counted);
  const retry = { ...outboxRetry, ...tracker.retry };
  const retryProblem = tracker.retry && retryBoundsProblem(retry, 'retry');
  if (retryProblem) counted(retryProblem);

  found.forEach(problem);
  if (found.length > 0 || !templates.url) return undefined;
  return resolved(tracker, templates, { clickIdPattern, retry, defaultConcurrency });
}

/** The tracker's clickIdPattern as a RegExp safe to test() again and again. */
function clickIdPatternOf(tracker: Applied, counted: Report): RegExp | undefined {
  const pattern = tracker.clickIdPattern;
  try {
    // Keep a RegExp's own flags (an /i must stay case-insensitive) but drop g and y, whose
    // lastIndex state would make test() alternate between true and false.
    return pattern === undefined
      ? undefined
      : typeof pattern === 'string'
        ? new RegExp(pattern, 'u')
        : withoutState(pattern);
  } catch (error) {
    counted(`clickIdPattern is not a valid regular expression: ${(error as Error).message}`);
    return undefined;
  }
}

const withoutState = (pattern: RegExp) =>
  new RegExp(pattern.source, pattern.flags.replace(/[gy]/g, ''));

const methodOf = (tracker: Applied) => tracker.postback?.method ?? TRACKER_DEFAULTS.method;
// HMAC-signed POSTs default to JSON: svix's verify parses every payload as JSON.
const formatOf = (tracker: Applied) =>
  tracker.postback?.format ?? (tracker.signing?.type === 'hmac' ? 'json' : 'form');

/** Parses the URL, body and reversal templates, with the request-shape checks between them. */
function compileTemplates(
  raw: TrackerOptions,
  tracker: Applied,
  fill: Fill,
  counted: Report,
): CompiledTemplates {
  const compiled: CompiledTemplates = { body: {}, failed: false };
  const parse = <T>(where: string, template: string, parser: (text: string) => T) => {
    try {
      return parser(fill(template, where));
    } catch (error) {
      compiled.failed = true;
      counted(`${where}: ${(error as Error).message}`);
      return undefined;
    }
  };
  const postback = tracker.postback;
  if (postback?.url === undefined) {
    counted('postback.url is required (or a preset that gives one)');
  } else {
    compiled.url = parse('postback.url', postback.url, parseUrlTemplate);
    for (const [field, template] of Object.entries(postback.body ?? {})) {
      const parts = parse(`postback.body.${field}`, template, parseParts);
      if (parts) compiled.body[field] = parts;
    }
  }
  requestShapeProblems(raw, tracker, compiled.body, counted);
  if (tracker.reversalPostbackUrl !== undefined) {
    compiled.reversalUrl = parse(
      'reversalPostbackUrl',
      tracker.reversalPostbackUrl,
      parseUrlTemplate,
    );
  }
  return compiled;
}

/** A body only a POST sends; JSON numbers only in a JSON body, and only of its fields. */
function requestShapeProblems(
  raw: TrackerOptions,
  tracker: Applied,
  body: Record<string, TemplatePart[]>,
  counted: Report,
): void {
  const method = methodOf(tracker);
  if (method === 'GET' && Object.keys(body).length > 0) {
    // Said with the fields, which may all be the preset's: a GET would send none of them.
    const fields = Object.keys(body).join(', ');
    counted(
      raw.preset && raw.postback?.method === 'GET'
        ? `postback.method GET would leave out the body of preset "${raw.preset}" (${fields}): keep POST, or set each field to null`
        : `postback.body (${fields}) is only sent with method POST`,
    );
  }
  const jsonNumbers = new Set(tracker.postback?.jsonNumbers ?? []);
  if (jsonNumbers.size > 0 && (method !== 'POST' || formatOf(tracker) !== 'json')) {
    counted('postback.jsonNumbers is only for a POST with format json');
  }
  for (const field of jsonNumbers) {
    if (!Object.hasOwn(body, field))
      counted(`postback.jsonNumbers: "${field}" is not a body field`);
  }
}

/** Macros against what the tracker can fill, unused values, and where credentials travel. */
function templateProblems(
  raw: TrackerOptions,
  tracker: Applied,
  { url, body, reversalUrl, failed }: CompiledTemplates,
  counted: Report,
): void {
  const signing = tracker.signing;
  const usedMacros = [
    ...(reversalUrl ? urlTemplateMacros(reversalUrl) : []),
    ...(url ? urlTemplateMacros(url) : []),
    ...Object.values(body).flatMap(macrosOf),
  ];
  const valueNames = new Set([
    ...Object.keys(tracker.values ?? {}),
    ...Object.values(tracker.eventValues ?? {}).flatMap(Object.keys),
    ...Object.keys(computedOf(tracker)),
  ]);
  for (const macro of new Set(usedMacros)) {
    const problemText = macroProblem(macro, tracker.subParams ?? [], valueNames, signing);
    if (problemText) counted(problemText);
  }
  // Only over templates that all parsed: a broken one would make every value look unused.
  const postback = tracker.postback;
  if (postback?.url !== undefined && !failed) {
    const placeholders = [postback.url, ...Object.values(postback.body ?? {})]
      .concat(tracker.reversalPostbackUrl ?? [])
      .flatMap(placeholdersOf);
    unusedValueProblems(raw, [...usedMacros, ...placeholders]).forEach(counted);
  }
  signingProblems(tracker, [url, reversalUrl], counted);
  if (tracker.reversals) {
    reversalProblems(tracker, reversalUrl ?? url, tracker.eventValues ?? {}).forEach(counted);
  }
  if (signing?.type === 'token' && !signing.param && !usedMacros.includes('token')) {
    counted(
      'signing: a token needs signing.param or a {token} macro in the template, or it is never sent',
    );
  }
}

/** What signing must see of the URLs: the whole path signed, credentials only over HTTPS. */
function signingProblems(
  tracker: Applied,
  urls: (UrlTemplate | undefined)[],
  counted: Report,
): void {
  const signing = tracker.signing;
  if (signing?.type === 'hmac' && signing.covers === 'query') {
    const inPath = urls.flatMap((template) => (template ? macrosOf(template.path) : []));
    if (inPath.length > 0) {
      counted(
        `signing.covers 'query' leaves the path unsigned, yet it holds {${inPath[0]}}: move the value into the query`,
      );
    }
  }
  const credential = signing && SENT_AS_IS[signing.type];
  // Local test receivers may use plain HTTP; nothing else that carries a secret may.
  const plain = urls.find(
    (template) => template && /^http:/i.test(template.origin) && !isLoopbackUrl(template.origin),
  );
  if (credential && plain) {
    counted(
      `the ${credential} would travel over plain HTTP, readable by anyone on the way: use an https:// postback URL`,
    );
  }
}

const computedOf = (tracker: Applied) =>
  (tracker.preset && POSTBACK_PRESETS.get(tracker.preset)?.computed) || {};

/** The checked tracker with every default filled in. */
function resolved(
  tracker: Applied,
  { url, body, reversalUrl }: CompiledTemplates,
  made: { clickIdPattern?: RegExp; retry: ResolvedRetry; defaultConcurrency: number },
): ResolvedTracker {
  const windowDays = tracker.attributionWindowDays ?? TRACKER_DEFAULTS.attributionWindowDays;
  return {
    name: tracker.name,
    preset: tracker.preset,
    clickParams: tracker.clickParams ?? [],
    subParams: tracker.subParams ?? [],
    landingPlusAsSpace: tracker.landingPlusAsSpace ?? TRACKER_DEFAULTS.landingPlusAsSpace,
    maxClickIdLength: tracker.maxClickIdLength ?? TRACKER_DEFAULTS.maxClickIdLength,
    clickIdPattern: made.clickIdPattern,
    method: methodOf(tracker),
    format: formatOf(tracker),
    url: url as UrlTemplate,
    reversalUrl,
    body,
    jsonNumbers: new Set(tracker.postback?.jsonNumbers ?? []),
    minorUnits: tracker.minorUnits ?? TRACKER_DEFAULTS.minorUnits,
    currency: tracker.currency,
    values: tracker.values ?? {},
    eventValues: tracker.eventValues ?? {},
    computed: computedOf(tracker),
    events: tracker.events ? new Set(tracker.events) : undefined,
    reversals: tracker.reversals ?? TRACKER_DEFAULTS.reversals,
    commission: tracker.commission ?? {},
    signing: tracker.signing,
    attributionWindowMs: windowDays * DAY_MS,
    // Without g and y, whose lastIndex state would make every other match fail.
    successBodyMatch:
      tracker.successBodyMatch instanceof RegExp
        ? withoutState(tracker.successBodyMatch)
        : tracker.successBodyMatch,
    retry: made.retry,
    concurrency: tracker.concurrency ?? made.defaultConcurrency,
  };
}
