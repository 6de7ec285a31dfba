import { z } from 'zod';

import { MINOR_UNIT_RULES } from '../common/minor-units.js';
import { isCurrencyCode } from '../common/money.js';
import { CLICK_ID_COLUMN_LENGTH } from '../postback.constants.js';
import type { PresetName } from '../common/preset-names.js';
import { commissionRuleSchema } from './commission.schema.js';
import { BUILT_IN_MACROS } from './macros.js';
import { PARAM_NAME, TRACKER_NAME, VALUE_NAME } from './names.js';
import { retrySchema } from './retry.schema.js';
import { signingSchema } from './signing.schema.js';
import { strictOptions } from './strict-options.js';

const paramName = z.string().regex(PARAM_NAME, { error: 'is not a valid query parameter name' });

const valueName = z
  .string()
  .refine(
    (name) =>
      VALUE_NAME.test(name) &&
      name !== 'token' &&
      !(BUILT_IN_MACROS as readonly string[]).includes(name),
    { error: 'the name must be lowercase [a-z0-9_] and not a built-in macro' },
  );
const values = z.record(valueName, z.string());

/** A tracker's `postback`: see `PostbackTemplateOptions`. */
export const postbackTemplateSchema = strictOptions({
  url: z.string().optional(),
  method: z.enum(['GET', 'POST']).optional(),
  format: z.enum(['form', 'json']).optional(),
  // null leaves out a field a preset sends (the merge is in applyPreset).
  body: z.record(z.string(), z.string().nullable()).optional(),
  jsonNumbers: z.array(z.string()).optional(),
});

/**
 * One entry of `trackers`: see `TrackerOptions`. What depends on a preset or on other fields
 * (templates, macros, reversals, event types) is checked by `resolveTracker()`.
 */
export const trackerSchema = strictOptions({
  name: z
    .string()
    .regex(TRACKER_NAME, { error: 'must be 1-64 characters of a-z, 0-9, "_" or "-"' }),
  clickParams: z
    .array(paramName)
    .min(1, { error: 'must name at least one landing-page query parameter' })
    .optional(),
  subParams: z.array(paramName).optional(),
  landingPlusAsSpace: z.boolean().optional(),
  maxClickIdLength: z
    .number()
    .int()
    .min(1)
    .max(CLICK_ID_COLUMN_LENGTH, {
      error: `must be a whole number from 1 to ${CLICK_ID_COLUMN_LENGTH}`,
    })
    .optional(),
  clickIdPattern: z
    .union([z.string(), z.instanceof(RegExp).meta({ type: 'RegExp' })], {
      error: 'must be a RegExp or its source text',
    })
    .optional(),
  // Typed as the registry's names, so an editor offers them; a name it lacks is refused by
  // applyPreset(), naming the tracker and listing the presets.
  preset: z
    .custom<PresetName>((value) => typeof value === 'string', { error: 'must be a preset name' })
    .meta({ type: 'preset name' })
    .optional(),
  postback: postbackTemplateSchema.optional(),
  values: values.optional(),
  eventValues: z.record(z.string(), values).optional(),
  events: z.array(z.string()).optional(),
  reversals: z.boolean().optional(),
  reversalPostbackUrl: z.string().optional(),
  commission: z.record(z.string(), commissionRuleSchema).optional(),
  minorUnits: z.enum(MINOR_UNIT_RULES).optional(),
  currency: z
    .string()
    .refine(isCurrencyCode, {
      error: 'must be an ISO 4217 currency code in capitals, such as "USD"',
    })
    .optional(),
  signing: signingSchema.optional(),
  attributionWindowDays: z.number().positive().optional(),
  successBodyMatch: z
    .union([z.string().min(1), z.instanceof(RegExp).meta({ type: 'RegExp' })], {
      error: 'must be a text or a RegExp the response body must match',
    })
    .optional(),
  retry: retrySchema.optional(),
  concurrency: z
    .number()
    .int()
    .min(1, { error: 'must be a whole number of at least 1' })
    .optional(),
});
