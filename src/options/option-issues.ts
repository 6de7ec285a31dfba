import type { z } from 'zod';

type Issue = z.core.$ZodIssue;

/**
 * Zod's issues as the module's configuration problems: the option's full path
 * (`trackers[0].retry.maxAttempts`), then what is wrong with it and how to fix it.
 */
export function describeOptionIssues(issues: readonly Issue[], root: PropertyKey[] = []): string[] {
  return issues.flatMap((issue) => {
    const path = [...root, ...issue.path];
    if (issue.code === 'unrecognized_keys') {
      const help = issue.message.split('\n');
      return issue.keys.map((key, i) =>
        `${pathText([...path, key])}: unknown option — ${help[i] ?? ''}`.trimEnd(),
      );
    }
    if (issue.code === 'invalid_union') {
      // Only one alternative of the right kind (an object for a route object): its own
      // problems (`methd`) say more than "must be a path or a route".
      const sameKind = issue.errors.filter(
        (branch) =>
          !(
            branch.length === 1 &&
            branch[0].code === 'invalid_type' &&
            branch[0].path.length === 0
          ),
      );
      const inside = sameKind[0]?.some(
        (inner) => inner.path.length > 0 || inner.code === 'unrecognized_keys',
      );
      if (sameKind.length === 1 && inside) return describeOptionIssues(sameKind[0], path);
    }
    if (issue.code === 'invalid_key') {
      return issue.issues.map((inner) => `${pathText(path)}: ${inner.message}`);
    }
    return [`${pathText(path)} ${issue.message}`];
  });
}

/** `trackers[0].commission.purchase`; the whole options object is `options`. */
export function pathText(path: readonly PropertyKey[]): string {
  if (path.length === 0) return 'options';
  return path
    .map((part, i) =>
      typeof part === 'number' ? `[${part}]` : `${i === 0 ? '' : '.'}${String(part)}`,
    )
    .join('');
}

/**
 * Messages for the issues a schema leaves to the defaults, phrased to follow the path:
 * "trackers[0].concurrency must be a whole number".
 */
export const optionErrorMap: z.core.$ZodErrorMap = (issue) => {
  switch (issue.code) {
    case 'invalid_type':
      if (issue.input === undefined) return 'is required';
      return `must be ${TYPE_NAMES[issue.expected] ?? issue.expected}`;
    case 'too_small':
      if (issue.origin === 'array' || issue.origin === 'set') {
        return `must list at least ${String(issue.minimum)}`;
      }
      if (issue.origin === 'string') return 'must not be empty';
      if (issue.minimum === 0 && !issue.inclusive) return 'must be a positive number';
      return `must be ${issue.inclusive ? 'at least' : 'more than'} ${String(issue.minimum)}`;
    case 'too_big':
      if (issue.origin === 'array' || issue.origin === 'set') {
        return `must list at most ${String(issue.maximum)}`;
      }
      if (issue.origin === 'string') return `must be at most ${String(issue.maximum)} characters`;
      return `must be ${issue.inclusive ? 'at most' : 'below'} ${String(issue.maximum)}`;
    case 'invalid_value':
      return `must be ${orList(issue.values.map((v) => JSON.stringify(v)))}`;
    case 'invalid_union': {
      // The discriminator's allowed values, on a discriminated union's issue.
      const options = (issue as { options?: unknown[] }).options;
      if (issue.discriminator && options) {
        return `must be ${orList(options.map((v) => JSON.stringify(v)))}`;
      }
      return undefined;
    }
    default:
      return undefined;
  }
};

const TYPE_NAMES: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  object: 'an object',
  array: 'a list',
  record: 'an object',
  function: 'a function',
};

function orList(items: string[]): string {
  return items.length <= 1
    ? (items[0] ?? 'nothing')
    : `${items.slice(0, -1).join(', ')} or ${items[items.length - 1]}`;
}
