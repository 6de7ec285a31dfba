import { BadRequestException, ValidationPipe, type ValidationError } from '@nestjs/common';

import { badRequestBody } from './invalid-input.filter.js';

function collect(errors: ValidationError[], prefix = '', into: Record<string, string[]> = {}) {
  for (const error of errors) {
    const path = `${prefix}${error.property}`;
    if (error.constraints) into[path] = Object.values(error.constraints);
    if (error.children?.length) collect(error.children, `${path}.`, into);
  }
  return into;
}

/**
 * Validates bodies and queries with class-validator; unknown fields are refused (a typo like
 * `order_id` must not pass as a purchase without an order ID). Errors list every field.
 */
export function agentValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    exceptionFactory: (errors) => new BadRequestException(badRequestBody(collect(errors))),
  });
}
