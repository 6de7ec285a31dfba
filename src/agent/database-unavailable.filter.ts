import { type ArgumentsHost, Catch, type ExceptionFilter } from '@nestjs/common';
import type { Response } from 'express';

import { DatabaseUnavailableError } from '../errors/database-unavailable.error.js';

/**
 * Answers a request the database could not take now with 503, `Retry-After` and the reason:
 * nothing of it was written, so the caller sends it again later. Not logged here: the module
 * logs each outage once, when it starts (DatabaseWriteHealth), not once per refused request.
 */
@Catch(DatabaseUnavailableError)
export class DatabaseUnavailableFilter implements ExceptionFilter {
  catch(error: DatabaseUnavailableError, host: ArgumentsHost): void {
    host
      .switchToHttp()
      .getResponse<Response>()
      .status(503)
      .setHeader('Retry-After', String(error.retryAfterSeconds))
      .json({
        statusCode: 503,
        error: 'Service Unavailable',
        message: `${error.message}; nothing was recorded, send it again after ${error.retryAfterSeconds} s`,
        reason: error.reason,
        retryAfterSeconds: error.retryAfterSeconds,
      });
  }
}
