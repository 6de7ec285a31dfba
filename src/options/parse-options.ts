import type { z } from 'zod';

import type { PostbackModuleOptions } from '../interfaces/index.js';
import { moduleOptionsSchema } from './module-options.schema.js';
import { describeOptionIssues, optionErrorMap } from './option-issues.js';

export interface ParsedOptions {
  /** Every problem the schema found, each with its option's path. */
  problems: string[];
  /**
   * The options, for the checks that span several fields, when the schema accepted them; or,
   * when it did not, what it accepts once unknown keys, the trackers it refused and the other
   * parts it refused are left out, so those checks still run on the rest and every problem is
   * reported in one go. Undefined when nothing sensible is left.
   */
  options?: PostbackModuleOptions;
  /** The index in the given `trackers` of each tracker in `options.trackers`. */
  positions: number[];
}

export function parseOptions(input: unknown): ParsedOptions {
  const parsed = moduleOptionsSchema.safeParse(input, { error: optionErrorMap });
  if (parsed.success) {
    return { problems: [], options: parsed.data, positions: parsed.data.trackers.map((_, i) => i) };
  }
  const problems = describeOptionIssues(parsed.error.issues);
  const pruned = prune(input, parsed.error.issues);
  const again = pruned && moduleOptionsSchema.safeParse(pruned.value);
  if (!pruned || !again?.success) return { problems, positions: [] };
  return { problems, options: again.data, positions: pruned.positions };
}

type Plain = Record<PropertyKey, unknown>;

function prune(
  input: unknown,
  issues: readonly z.core.$ZodIssue[],
): { value: Plain; positions: number[] } | undefined {
  if (!isPlain(input)) return undefined;
  const copy = clonePlain(input) as Plain;
  const badTrackers = new Set<number>();
  const badParts = new Set<PropertyKey>();
  for (const issue of issues) {
    const [part, index] = issue.path;
    if (issue.code === 'unrecognized_keys') {
      const holder = issue.path.reduce<unknown>(
        (at, key) => (at as Plain | undefined)?.[key],
        copy,
      );
      if (isPlain(holder)) for (const key of issue.keys) delete holder[key];
    } else if (part === 'trackers' && typeof index === 'number') {
      if (!setAside(copy, issue.path.slice(1))) badTrackers.add(index);
    } else if (part !== undefined && part !== 'trackers') {
      badParts.add(part);
    } else {
      return undefined;
    }
  }
  for (const part of badParts) delete copy[part];
  const trackers = Array.isArray(copy.trackers) ? copy.trackers : [];
  const positions = trackers.map((_, i) => i).filter((i) => !badTrackers.has(i));
  copy.trackers = positions.map((i) => trackers[i]);
  return { value: copy, positions };
}

/**
 * Fields of a tracker that no check across fields reads: one refused by the schema is left out
 * (or, for a secret, stood in for) and the tracker's other checks still run, without follow-on
 * noise. A tracker refused anywhere else is left out whole.
 */
const READ_ALONE = new Set([
  'commission',
  'retry',
  'concurrency',
  'attributionWindowDays',
  'maxClickIdLength',
  'successBodyMatch',
  'clickIdPattern',
]);
/** Stands in for a refused or unset secret while the other checks run: a whsec_ one, which
 * every signing type accepts (hmac takes no other). */
export const STAND_IN_SECRET = 'whsec_c3RhbmQtaW4tc2VjcmV0LWZvci10aGUtb3RoZXItY2hlY2tz';

const STAND_INS: Record<string, string> = {
  secret: STAND_IN_SECRET,
  username: 'stand-in',
};

function setAside(copy: Plain, [index, field, inner]: PropertyKey[]): boolean {
  const tracker = (copy.trackers as unknown[] | undefined)?.[index as number];
  if (!isPlain(tracker)) return false;
  if (typeof field === 'string' && READ_ALONE.has(field)) {
    delete tracker[field];
    return true;
  }
  if (
    field === 'signing' &&
    isPlain(tracker.signing) &&
    typeof inner === 'string' &&
    STAND_INS[inner]
  ) {
    tracker.signing[inner] = STAND_INS[inner];
    return true;
  }
  return false;
}

function isPlain(value: unknown): value is Plain {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** Copies arrays and plain objects, so keys can be removed; functions, RegExps… are shared. */
function clonePlain(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(clonePlain);
  if (isPlain(value)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, clonePlain(v)]));
  }
  return value;
}
