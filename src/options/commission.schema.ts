import { z } from 'zod';

import { amountProblem, isCurrencyCode, isDecimalString } from '../common/money.js';
import { unknownNameHelp } from '../common/did-you-mean.js';
import { strictOptions } from './strict-options.js';

const decimal = (example: string) =>
  z.string().refine(isDecimalString, {
    error: `must be a non-negative decimal string such as "${example}"`,
  });

const fixedRule = strictOptions({
  fixed: decimal('2.00'),
  currency: z
    .string()
    .refine(isCurrencyCode, {
      error: (issue) => `must be an ISO 4217 currency code, not "${String(issue.input)}"`,
    })
    .optional(),
});

const percentRule = strictOptions({
  percent: decimal('7.5').refine((value) => Number(value) <= 100, {
    error: 'cannot exceed 100',
  }),
  min: decimal('1.00').optional(),
  max: decimal('50.00').optional(),
});

const RULE_KEYS = ['fixed', 'currency', 'percent', 'min', 'max'];

/** The rule's keys that are none of a rule's, with the one each probably meant. */
function misspelt(rule: unknown): string {
  if (typeof rule !== 'object' || rule === null) return '';
  const help = Object.keys(rule)
    .filter((key) => !RULE_KEYS.includes(key))
    .map((key) => `"${key}": ${unknownNameHelp(key, RULE_KEYS)}`);
  return help.length > 0 ? `; unknown ${help.join('; ')}` : '';
}

/**
 * One event type's commission: see `CommissionRule`. The checks across fields run on the
 * union, once a rule has matched one of its two shapes, so their message is not lost to the
 * union's own.
 */
export const commissionRuleSchema = z
  .union([fixedRule, percentRule], {
    error: (issue) =>
      `must be { fixed, currency? } or { percent, min?, max? }${misspelt(issue.input)}`,
  })
  .check((ctx) => {
    const rule = ctx.value;
    if ('fixed' in rule) {
      // Refinements do not stop the checks after them: only a valid currency has digits to check.
      const problem =
        rule.currency &&
        isCurrencyCode(rule.currency) &&
        isDecimalString(rule.fixed) &&
        amountProblem(rule.fixed, rule.currency);
      if (problem)
        ctx.issues.push({ code: 'custom', message: problem, input: rule, path: ['fixed'] });
    } else if (
      rule.min !== undefined &&
      rule.max !== undefined &&
      Number(rule.min) > Number(rule.max)
    ) {
      ctx.issues.push({
        code: 'custom',
        message: 'is greater than max',
        input: rule,
        path: ['min'],
      });
    }
  });
