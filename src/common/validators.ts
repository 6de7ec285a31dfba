import {
  registerDecorator,
  type ValidationArguments,
  type ValidationOptions,
} from 'class-validator';

import { textProblem } from './text.js';
import { amountProblem, isCurrencyCode } from './money.js';

/** A string of at most `maxLength` characters with no control or formatting characters. */
export function IsSafeText(maxLength: number, options?: ValidationOptions): PropertyDecorator {
  return (target, propertyName) =>
    registerDecorator({
      name: 'isSafeText',
      target: target.constructor,
      propertyName: propertyName as string,
      // Kept in the metadata so that the OpenAPI document states the limit.
      constraints: [maxLength],
      options,
      validator: {
        validate: (value: unknown) => textProblem(value, maxLength) === undefined,
        defaultMessage: (args: ValidationArguments) =>
          `${args.property} ${textProblem(args.value, maxLength)}`,
      },
    });
}

/** An ISO 4217 code such as "EUR". */
export function IsCurrencyCode(options?: ValidationOptions): PropertyDecorator {
  return (target, propertyName) =>
    registerDecorator({
      name: 'isCurrencyCode',
      target: target.constructor,
      propertyName: propertyName as string,
      options,
      validator: {
        validate: (value: unknown) => typeof value === 'string' && isCurrencyCode(value),
        defaultMessage: (args: ValidationArguments) =>
          `${args.property} must be an ISO 4217 currency code in capitals, such as "EUR"`,
      },
    });
}

/**
 * A non-negative amount as a decimal string ("19.99") or a JSON number, with no more decimals
 * than the currency named by `currencyProperty` allows.
 */
export function IsAmount(currencyProperty: string, options?: ValidationOptions): PropertyDecorator {
  const problemOf = (value: unknown, object: object): string | undefined => {
    if (typeof value === 'number' && !Number.isFinite(value)) return 'must be a finite number';
    if (typeof value !== 'string' && typeof value !== 'number') {
      return 'must be a decimal string such as "19.99"';
    }
    const currency = (object as Record<string, unknown>)[currencyProperty];
    const text = typeof value === 'number' ? String(value) : value;
    if (text.startsWith('-')) return 'must not be negative';
    return amountProblem(text, String(currency));
  };
  return (target, propertyName) =>
    registerDecorator({
      name: 'isAmount',
      target: target.constructor,
      propertyName: propertyName as string,
      options,
      validator: {
        validate: (value: unknown, args: ValidationArguments) =>
          problemOf(value, args.object) === undefined,
        defaultMessage: (args: ValidationArguments) =>
          `${args.property} ${problemOf(args.value, args.object)}`,
      },
    });
}
