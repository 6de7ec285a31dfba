import { REVERSAL_TYPES } from '../common/event-types.js';
import type { SigningOptions, TrackerOptions } from '../interfaces/index.js';
import { type UrlTemplate, urlTemplateMacros } from '../postback/postback-template.js';
import { BUILT_IN_MACROS } from './macros.js';

/** Why a macro of a template would never be filled, if it would not. */
export function macroProblem(
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

/** What a signing sends unchanged with every request, by type: unsafe over plain HTTP. */
export const SENT_AS_IS: Partial<Record<SigningOptions['type'], string>> = {
  token: 'token',
  basic: 'password',
  bearer: 'bearer token',
};

/** Characters a `{{placeholder}}` value may have: it lands unencoded, possibly in the host. */
const PLACEHOLDER_VALUE = /^[A-Za-z0-9._~-]+$/;

/** Fills `{{name}}` from the tracker's values, once, at start-up. */
export function fillPlaceholders(
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

/**
 * Reversals go through a template that must tell them from a sale, or a refund would reach
 * the network as a new conversion: some macro of it gets a value for each reversal type from
 * eventValues (a status code), or it carries {event_type}.
 */
export function reversalProblems(
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
