import type { RetryOptions, TrackerOptions } from '../interfaces/index.js';
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
  problem: (text: string) => void,
): ResolvedTracker | undefined {
  const found: string[] = [];
  const counted = (text: string) => found.push(text);
  const raw = own;
  const tracker = applyPreset(own, counted);
  if (!tracker) {
    // An unknown preset: everything else would only be follow-on noise.
    found.forEach(problem);
    return undefined;
  }
  const clickParams = tracker.clickParams ?? [];
  if (clickParams.length === 0) {
    counted('clickParams must name at least one landing-page query parameter');
  }
  const subParams = tracker.subParams ?? [];
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
  // HMAC-signed POSTs default to JSON: svix's verify parses every payload as JSON.
  const format = postback?.format ?? (tracker.signing?.type === 'hmac' ? 'json' : 'form');
  let url: UrlTemplate | undefined;
  let templateFailed = false;
  const body: Record<string, TemplatePart[]> = {};
  if (postback?.url === undefined) {
    counted('postback.url is required (or a preset that gives one)');
  } else {
    try {
      url = parseUrlTemplate(fill(postback.url, 'postback.url'));
    } catch (error) {
      templateFailed = true;
      counted(`postback.url: ${(error as Error).message}`);
    }
    for (const [field, template] of Object.entries(postback.body ?? {})) {
      try {
        body[field] = parseParts(fill(template, `postback.body.${field}`));
      } catch (error) {
        templateFailed = true;
        counted(`postback.body.${field}: ${(error as Error).message}`);
      }
    }
  }
  if (method === 'GET' && Object.keys(body).length > 0) {
    // Said with the fields, which may all be the preset's: a GET would send none of them.
    const fields = Object.keys(body).join(', ');
    counted(
      raw.preset && raw.postback?.method === 'GET'
        ? `postback.method GET would leave out the body of preset "${raw.preset}" (${fields}): keep POST, or set each field to null`
        : `postback.body (${fields}) is only sent with method POST`,
    );
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
  let reversalUrl: UrlTemplate | undefined;
  if (tracker.reversalPostbackUrl !== undefined) {
    try {
      reversalUrl = parseUrlTemplate(fill(tracker.reversalPostbackUrl, 'reversalPostbackUrl'));
    } catch (error) {
      templateFailed = true;
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
  // Only over templates that all parsed: a broken one would make every value look unused.
  if (postback?.url !== undefined && !templateFailed) {
    const placeholders = [postback.url, ...Object.values(postback.body ?? {})]
      .concat(tracker.reversalPostbackUrl ?? [])
      .flatMap(placeholdersOf);
    unusedValueProblems(raw, [...usedMacros, ...placeholders]).forEach(counted);
  }
  if (signing?.type === 'hmac' && signing.covers === 'query') {
    const inPath = [url, reversalUrl].flatMap((template) =>
      template ? macrosOf(template.path) : [],
    );
    if (inPath.length > 0) {
      counted(
        `signing.covers 'query' leaves the path unsigned, yet it holds {${inPath[0]}}: move the value into the query`,
      );
    }
  }
  const credential = signing && SENT_AS_IS[signing.type];
  for (const template of [url, reversalUrl]) {
    if (
      credential &&
      template &&
      /^http:/i.test(template.origin) &&
      // Local test receivers may use plain HTTP; nothing else that carries a secret may.
      !isLoopbackUrl(template.origin)
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

  const retry = { ...outboxRetry, ...tracker.retry };
  const retryProblem = tracker.retry && retryBoundsProblem(retry, 'retry');
  if (retryProblem) counted(retryProblem);

  found.forEach(problem);
  if (found.length > 0 || !url) return undefined;
  const windowDays = tracker.attributionWindowDays ?? DEFAULT_ATTRIBUTION_WINDOW_DAYS;
  return {
    name: tracker.name,
    preset: tracker.preset,
    clickParams,
    subParams,
    landingPlusAsSpace: tracker.landingPlusAsSpace ?? true,
    maxClickIdLength: tracker.maxClickIdLength ?? DEFAULT_MAX_CLICK_ID_LENGTH,
    clickIdPattern,
    method,
    format,
    url,
    reversalUrl,
    body,
    jsonNumbers,
    minorUnits: tracker.minorUnits ?? 'iso4217',
    currency: tracker.currency,
    values,
    eventValues,
    computed,
    events: tracker.events ? new Set(tracker.events) : undefined,
    reversals: tracker.reversals ?? false,
    commission: tracker.commission ?? {},
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
    concurrency: tracker.concurrency ?? defaultConcurrency,
  };
}
