import type { TrackerOptions } from '../../interfaces/index.js';
import { POSTBACK_PRESETS } from './index.js';

/**
 * A tracker's options with its preset's filled in under them: the merchant's own fields win,
 * `values` and `eventValues` are merged over the preset's defaults, and a token signing gets
 * the network's token parameter unless the merchant names another. Undefined for an unknown
 * preset (the problem says which exist).
 */
export function applyPreset(
  tracker: TrackerOptions,
  problem: (text: string) => void,
): TrackerOptions | undefined {
  if (tracker.preset === undefined) return tracker;
  const preset = POSTBACK_PRESETS.get(tracker.preset);
  if (!preset) {
    problem(
      `unknown preset "${tracker.preset}"; known: ${[...POSTBACK_PRESETS.keys()].join(', ')}`,
    );
    return undefined;
  }
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
  if (preset.amountsIn && tracker.currency === undefined) {
    problem(
      `${preset.title} takes no currency parameter and reads amounts in ${preset.amountsIn}: ` +
        `name it, e.g. currency: 'USD'; postbacks in any other currency are then dead-lettered, not reported as a wrong number`,
    );
  }
  // With the merchant's own template, the general check (a status for each reversal) applies.
  const ownTemplate = tracker.postback !== undefined || tracker.reversalPostbackUrl !== undefined;
  if (tracker.reversals && !preset.reversals && !ownTemplate) {
    problem(
      `${preset.title} documents no reversal postback: leave reversals off, or give your own template`,
    );
  }
  const eventValues: Record<string, Record<string, string>> = { ...preset.eventValues };
  for (const [type, values] of Object.entries(tracker.eventValues ?? {})) {
    eventValues[type] = { ...eventValues[type], ...values };
  }
  return {
    clickParams: preset.clickParams,
    successBodyMatch: preset.successBodyMatch,
    events: preset.events,
    minorUnits: preset.minorUnits,
    ...definedOnly(tracker),
    postback: tracker.postback ?? preset.postback,
    reversalPostbackUrl: tracker.reversalPostbackUrl ?? preset.reversalUrl,
    values: { ...preset.defaults, ...tracker.values },
    eventValues,
    signing:
      signing?.type === 'token' && signing.param === undefined && preset.token?.param
        ? { ...signing, param: preset.token.param }
        : signing,
  } as TrackerOptions;
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
