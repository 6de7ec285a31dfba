import { type ArgumentsHost, Catch, type ExceptionFilter, Logger } from '@nestjs/common';
import type { Response } from 'express';
import { QueryFailedError } from 'typeorm';

import { LogThrottle } from '../common/log-throttle.js';
import { safeErrorText, safeStack } from '../database/safe-error-text.js';

/**
 * A statement the database refused for a reason that is not an outage (those are
 * DatabaseUnavailableError, 503): a bug, answered 500. Nest's own handler would log the whole
 * error object, whose `query` and `parameters` hold session keys and click IDs; this logs its
 * safe text and stack, at most once per interval with the number held back.
 */
@Catch(QueryFailedError)
export class QueryFailedFilter implements ExceptionFilter {
  private readonly logger = new Logger(QueryFailedFilter.name);
  private readonly throttle = new LogThrottle(10_000);

  catch(error: QueryFailedError, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const path = http.getRequest<{ path?: string }>().path;
    this.throttle.log((heldBack) =>
      this.logger.error(
        `${path}: the database refused a statement: ${safeErrorText(error)}` +
          (heldBack > 0 ? ` (${heldBack} more since the last such line)` : ''),
        safeStack(error),
      ),
    );
    http.getResponse<Response>().status(500).json({
      statusCode: 500,
      message: 'Internal server error',
    });
  }
}
