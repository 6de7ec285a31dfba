import type { PostbackTemplateOptions, TrackerOptions } from '../../interfaces/index.js';
import { REVERSAL_TYPES } from '../../common/event-types.js';
import { unknownNameHelp } from '../../common/did-you-mean.js';
import type { PostbackPreset } from './postback-preset.interface.js';
import { POSTBACK_PRESETS } from './index.js';

/** A postback template with a preset's fields merged in: no `null` (left-out) body field. */
export type AppliedTemplate = Omit<PostbackTemplateOptions, 'body'> & {
  body?: Record<string, string>;
};

/** A tracker's options with its preset's under them (see `applyPreset`). */
export type AppliedTracker = Omit<TrackerOptions, 'postback'> & { postback?: AppliedTemplate };

/**
 * A tracker's options with its preset's filled in under them, field by field: `postback` key by
 * key (its `body` field by field, a `null` field left out), `values` and `eventValues` key by
 * key; a list, a text, a RegExp or `signing` replaces the preset's whole (merging two lists of
 * click parameters or event types, or two signings, would make one neither side meant). A
 * token signing gets the network's token parameter unless the merchant names another.
 * Undefined for an unknown preset (the problem says which exist).
 */
export function applyPreset(
  tracker: TrackerOptions,
  problem: (text: string) => void,
): AppliedTracker | undefined {
  if (tracker.preset === undefined) {
    const postback = tracker.postback && mergeTemplate(undefined, tracker.postback, problem);
    return { ...tracker, postback };
  }
  const preset = POSTBACK_PRESETS.get(tracker.preset);
  if (!preset) {
    problem(
      `unknown preset "${tracker.preset}"; known: ${[...POSTBACK_PRESETS.keys()].join(', ')}`,
    );
    return undefined;
  }
  presetProblems(tracker, preset, problem);
  const signing = tracker.signing;
  const eventValues: Record<string, Record<string, string>> = { ...preset.eventValues };
  for (const [type, values] of Object.entries(tracker.eventValues ?? {})) {
    eventValues[type] = { ...eventValues[type], ...values };
  }
  inheritFromPurchase(eventValues, preset.reversalsKeep ?? []);
  return {
    clickParams: preset.clickParams,
    successBodyMatch: preset.successBodyMatch,
    events: preset.events,
    minorUnits: preset.minorUnits,
    ...definedOnly(tracker),
    postback: mergeTemplate(preset.postback, tracker.postback, problem, preset.title),
    reversalPostbackUrl: tracker.reversalPostbackUrl ?? preset.reversalUrl,
    values: { ...preset.defaults, ...tracker.values },
    eventValues,
    signing:
      signing?.type === 'token' && signing.param === undefined && preset.token?.param
        ? { ...signing, param: preset.token.param }
        : signing,
  } as AppliedTracker;
}

/**
 * What the tracker must add to its preset, or may not combine with it: the credential the
 * network needs, the currency it reads amounts in, a reversal endpoint, computed macros.
 */
function presetProblems(
  tracker: TrackerOptions,
  preset: PostbackPreset,
  problem: (text: string) => void,
): void {
  const signing = tracker.signing;
  if (preset.token?.required && signing?.type !== 'token') {
    problem(
      `${preset.title} needs its security token: signing: { type: 'token', secret } (from the environment)`,
    );
  }
  if (preset.auth && signing?.type !== preset.auth.type) {
    const { type, username, secret } = preset.auth;
    problem(
      `${preset.title} takes ${type === 'basic' ? 'HTTP Basic authentication' : 'a bearer token'}: ` +
        `signing: { type: '${type}', ${username ? `username: <${username}>, ` : ''}secret: <${secret}> } (the secret from the environment)`,
    );
  }
  // The merchant's own template that names the currency tells the receiver which it is.
  const own = tracker.postback;
  const ownNamesCurrency =
    own?.url !== undefined &&
    [own.url, ...Object.values(own.body ?? {})].some(
      (text) => text?.includes('{currency}') || text?.includes('{payout_currency}'),
    );
  if (preset.amountsIn && tracker.currency === undefined && !ownNamesCurrency) {
    problem(
      `${preset.title} takes no currency parameter and reads amounts in ${preset.amountsIn}: ` +
        `name it, e.g. currency: 'USD'; postbacks in any other currency are then dead-lettered, not reported as a wrong number`,
    );
  }
  // With the merchant's own URL, the general check (a status for each reversal) applies.
  const ownUrl = tracker.postback?.url !== undefined;
  if (tracker.reversals && !preset.reversals && !ownUrl && !tracker.reversalPostbackUrl) {
    problem(
      `${preset.title} documents no reversal postback: leave reversals off, or give your own template`,
    );
  }
  // A postback moved to another host (staging, self-hosted) would still send its reversals to
  // the preset's status-change endpoint.
  if (tracker.reversals && preset.reversalUrl && ownUrl && !tracker.reversalPostbackUrl) {
    problem(
      `postback.url replaces ${preset.title}'s, but reversals would still go to the preset's ` +
        `reversal endpoint ${preset.reversalUrl}: set reversalPostbackUrl too`,
    );
  }
  // A computed macro is looked up before `values` (it is per event, values are not): one
  // given there would be ignored without a word.
  for (const name of Object.keys(preset.computed ?? {})) {
    if (Object.hasOwn(tracker.values ?? {}, name)) {
      problem(
        `values.${name} would be ignored: ${preset.title} computes {${name}} for each event; set eventValues.<type>.${name} for the events whose value differs`,
      );
    }
  }
}

/**
 * The merchant's `postback` over the preset's: each key given replaces the preset's, `body`
 * field by field (`null` drops one). `jsonNumbers` given replaces the preset's list; left out,
 * the preset's stays for the body fields still sent, so dropping Dub's `amount` does not leave
 * a number rule for a field that no longer exists, and goes with a format other than JSON.
 */
function mergeTemplate(
  preset: PostbackPreset['postback'] | undefined,
  own: PostbackTemplateOptions | undefined,
  problem: (text: string) => void,
  title?: string,
): AppliedTemplate {
  // A null names a preset's field to leave out: naming none (a typo, or no preset) is an error.
  const presetFields = Object.keys(preset?.body ?? {});
  for (const [field, template] of Object.entries(own?.body ?? {})) {
    if (template !== null || presetFields.includes(field)) continue;
    problem(
      title
        ? `postback.body.${field} is null, which leaves out a field of ${title}'s body, but it has no "${field}": ${unknownNameHelp(field, presetFields)}`
        : `postback.body.${field} is null, which leaves out a preset's field, and this tracker has no preset: remove it`,
    );
  }
  const merged = { ...preset, ...definedOnly(own ?? {}) };
  const body: Record<string, string> = {};
  for (const [field, template] of Object.entries({ ...preset?.body, ...own?.body })) {
    if (template !== null) body[field] = template;
  }
  // The preset's number rule is JSON's: it goes when the merchant sends the body otherwise.
  const notJson = (own?.format !== undefined && own.format !== 'json') || own?.method === 'GET';
  const jsonNumbers =
    own?.jsonNumbers ??
    (notJson ? undefined : preset?.jsonNumbers?.filter((field) => Object.hasOwn(body, field)));
  return {
    ...merged,
    body: preset?.body !== undefined || own?.body !== undefined ? body : undefined,
    jsonNumbers,
  };
}

/**
 * A reversal changes the purchase's conversion: the values the network finds it by (Scaleo's
 * `goal_id`) are the purchase's own event values, where it has them and the reversal sets none.
 */
function inheritFromPurchase(
  eventValues: Record<string, Record<string, string>>,
  names: string[],
): void {
  const purchase = eventValues.purchase ?? {};
  for (const name of names) {
    if (!Object.hasOwn(purchase, name)) continue;
    for (const type of REVERSAL_TYPES) {
      if (Object.hasOwn(eventValues[type] ?? {}, name)) continue;
      eventValues[type] = { ...eventValues[type], [name]: purchase[name] };
    }
  }
}

/** What a preset's `{{placeholder}}` is, for error messages. */
export function placeholderHelp(tracker: TrackerOptions, name: string): string | undefined {
  return tracker.preset ? POSTBACK_PRESETS.get(tracker.preset)?.placeholders[name] : undefined;
}

function definedOnly<T extends object>(object: T): Partial<T> {
  return Object.fromEntries(
    Object.entries(object).filter(([, v]) => v !== undefined),
  ) as Partial<T>;
}
