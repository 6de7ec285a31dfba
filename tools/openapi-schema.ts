/**
 * Describes the agent's DTO classes to @nestjs/swagger from what they already declare: their
 * class-validator rules (type, pattern, bounds, optional or not) and their JSDoc. The DTO files
 * import nothing of swagger (the package runs on Nest 11, which swagger 12 does not), so its
 * ApiProperty decorator is applied here, at generation time, and never at run time.
 */
import { ApiProperty, type ApiPropertyOptions } from '@nestjs/swagger';
import { getMetadataStorage } from 'class-validator';

type Schema = Record<string, unknown>;
type Rule = { name?: string; type: string; constraints?: unknown[]; each?: boolean };

const CURRENCY = { type: 'string', pattern: '^[A-Z]{3}$', example: 'EUR' };

/** Each class-validator rule the DTOs use, as the JSON Schema keywords it stands for. */
const RULES: Record<string, (c: unknown[]) => Schema> = {
  isString: () => ({ type: 'string' }),
  isSafeText: ([max]) => ({ type: 'string', maxLength: max }),
  matches: ([pattern]) => ({ type: 'string', pattern: (pattern as RegExp).source }),
  maxLength: ([max]) => ({ type: 'string', maxLength: max }),
  minLength: ([min]) => ({ type: 'string', minLength: min }),
  isUrl: () => ({ type: 'string', format: 'uri' }),
  isUuid: () => ({ type: 'string', format: 'uuid' }),
  isIso8601: () => ({ type: 'string', format: 'date-time' }),
  isCurrencyCode: () => CURRENCY,
  // A decimal string or a JSON number; the currency's exponent bounds its decimals.
  isAmount: () => ({
    oneOf: [
      { type: 'string', pattern: '^\\d+(\\.\\d+)?$', example: '59.97' },
      { type: 'number', minimum: 0 },
    ],
  }),
  isIn: ([values]) => ({ enum: values }),
  isInt: () => ({ type: 'integer' }),
  min: ([min]) => ({ minimum: min }),
  max: ([max]) => ({ maximum: max }),
  isBoolean: () => ({ type: 'boolean' }),
  isObject: () => ({ type: 'object' }),
  isArray: () => ({ type: 'array' }),
  arrayMaxSize: ([max]) => ({ maxItems: max }),
};

/** The JSON Schema of one property: its rules merged, `each` rules applying to the items. */
export function propertySchema(dto: string, property: string, rules: Rule[]): Schema {
  const schema: Schema = {};
  const items: Schema = {};
  for (const rule of rules) {
    if (rule.type !== 'customValidation') continue;
    const keywords = rule.name && RULES[rule.name];
    if (!keywords) {
      throw new Error(
        `${dto}.${property}: no OpenAPI description of the class-validator rule "${rule.name}"; add it to RULES in tools/openapi-schema.ts`,
      );
    }
    Object.assign(rule.each ? items : schema, keywords(rule.constraints ?? []));
  }
  if (Object.keys(items).length > 0) schema.items = items;
  return schema;
}

const described = new WeakSet<object>();

/**
 * Applies ApiProperty to every property `dto` itself declares (an inherited one is its base
 * class's). A property is required unless it has IsOptional or ValidateIf: a condition is in
 * its description, from the JSDoc.
 */
export function describeDto(dto: new () => object, docs: Map<string, string>): void {
  if (described.has(dto)) return;
  described.add(dto);
  const rules = getMetadataStorage()
    .getTargetValidationMetadatas(dto, '', true, false)
    .filter((rule) => rule.target === dto);
  const properties = [...new Set(rules.map((rule) => rule.propertyName))];
  for (const property of properties) {
    const own = rules.filter((rule) => rule.propertyName === property);
    const options = {
      ...propertySchema(dto.name, property, own),
      required: !own.some((rule) => rule.type === 'conditionalValidation'),
      description: docs.get(`${dto.name}.${property}`) || undefined,
    } as ApiPropertyOptions;
    ApiProperty(options)(dto.prototype, property);
  }
}
