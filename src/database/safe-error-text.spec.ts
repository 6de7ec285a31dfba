import { jest } from '@jest/globals';
import { QueryFailedError } from 'typeorm';

import { DatabaseUnavailableError } from '../errors/database-unavailable.error.js';
import { logDatabaseError, safeErrorText, safeStack } from './safe-error-text.js';

const failed = (message: string, code: string) =>
  new QueryFailedError(
    'INSERT INTO "postback_clicks" VALUES (?, ?)',
    ['SESSION-SECRET', 'CLICK-SECRET'],
    Object.assign(new Error(message), { code }),
  );

describe('safeErrorText', () => {
  it("takes out the value MySQL quotes in a duplicate entry, and adds the driver's code", () => {
    const text = safeErrorText(
      failed("Duplicate entry 'CLICK-SECRET-network' for key 'UQ_clicks'", 'ER_DUP_ENTRY'),
    );
    expect(text).not.toMatch(/SECRET/);
    expect(text).toMatch(/Duplicate entry '…' for key 'UQ_clicks' \(ER_DUP_ENTRY\)/);
  });

  it('takes out the value MySQL and PostgreSQL quote as an incorrect value', () => {
    expect(
      safeErrorText(failed("Incorrect string value: '\\xF0CLICK-SECRET' for column", 'ER_X')),
    ).not.toMatch(/SECRET/);
    expect(
      safeErrorText(failed('invalid input syntax for type uuid: "CLICK-SECRET"', '22P02')),
    ).not.toMatch(/SECRET/);
  });

  it('shows neither the statement nor its parameters, in the text or the stack', () => {
    const error = failed("Duplicate entry 'CLICK-SECRET'", 'ER_DUP_ENTRY');
    expect(safeErrorText(error)).not.toMatch(/INSERT|SECRET/);
    expect(safeStack(error)).not.toMatch(/INSERT|SECRET/);
    expect(safeStack(error)).toMatch(/^QueryFailedError: .*\n\s+at /);
  });
});

describe('logDatabaseError', () => {
  it('logs other failures, and not an outage (logged once, when it starts)', () => {
    const logger = { error: jest.fn() };
    logDatabaseError(logger, 'Outbox flush failed', new DatabaseUnavailableError('down'));
    expect(logger.error).not.toHaveBeenCalled();
    logDatabaseError(logger, 'Outbox flush failed', new Error('a bug'));
    expect(logger.error).toHaveBeenCalledWith('Outbox flush failed: a bug', undefined);
  });
});
