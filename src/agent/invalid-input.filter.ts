import { type ArgumentsHost, Catch, type ExceptionFilter } from '@nestjs/common';
import type { Response } from 'express';

import { InvalidInputError } from '../errors/invalid-input.error.js';

/** Answers refused input with 400 and the same body shape as the validation pipe. */
@Catch(InvalidInputError)
export class InvalidInputFilter implements ExceptionFilter {
  catch(error: InvalidInputError, host: ArgumentsHost): void {
    host.switchToHttp().getResponse<Response>().status(400).json(badRequestBody(error.fields));
  }
}

export function badRequestBody(fields: Record<string, string[]>) {
  return {
    statusCode: 400,
    error: 'Bad Request',
    message: Object.values(fields).flat(),
    fields,
  };
}
