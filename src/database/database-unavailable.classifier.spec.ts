import { QueryFailedError } from 'typeorm';

import { asUnavailable, unavailableReason } from './database-unavailable.classifier.js';
import { DatabaseUnavailableError } from '../errors/database-unavailable.error.js';

const driver = (code: string, message = 'driver message', errno?: number) =>
  Object.assign(new Error(message), { code, errno });
const failed = (error: Error) =>
  new QueryFailedError('INSERT INTO "t" VALUES ($1)', ['CLICK-SECRET'], error);

describe('unavailableReason', () => {
  it.each([
    ['SQLITE_FULL', /full \(SQLITE_FULL\)/],
    ['SQLITE_IOERR_FSYNC', /disk failed .* \(SQLITE_IOERR_FSYNC\)/],
    ['SQLITE_BUSY', /lock \(SQLITE_BUSY\)/],
    ['ECONNREFUSED', /cannot be reached \(ECONNREFUSED\)/],
    ['ECONNRESET', /cannot be reached \(ECONNRESET\)/],
    ['57P01', /stopped .* \(SQLSTATE 57P01\)/],
    ['08006', /connection .* failed \(SQLSTATE 08006\)/],
    ['53100', /out of resources .* \(SQLSTATE 53100\)/],
    ['PROTOCOL_CONNECTION_LOST', /connection .* lost \(PROTOCOL_CONNECTION_LOST\)/],
    ['ER_LOCK_WAIT_TIMEOUT', /lock .* \(ER_LOCK_WAIT_TIMEOUT\)/],
    ['25006', /read-only \(SQLSTATE 25006\)/],
    ['ER_OPTION_PREVENTS_STATEMENT', /read-only \(ER_OPTION_PREVENTS_STATEMENT\)/],
    ['40P01', /deadlocks .* \(SQLSTATE 40P01\)/],
    ['40001', /serialize .* \(SQLSTATE 40001\)/],
    ['ER_LOCK_DEADLOCK', /deadlocks .* \(ER_LOCK_DEADLOCK\)/],
  ])('%s means the database cannot work now', (code, reason) => {
    expect(unavailableReason(failed(driver(code)))).toMatch(reason);
    expect(unavailableReason(driver(code))).toMatch(reason);
  });

  it('knows a PostgreSQL database closed to connections (55000 with that message only)', () => {
    const closed = driver('55000', 'database "shop" is not currently accepting connections');
    expect(unavailableReason(failed(closed))).toMatch(/not accepting connections/);
    expect(
      unavailableReason(failed(driver('55000', 'currval is not yet defined'))),
    ).toBeUndefined();
  });

  it.each([
    [1290, /read-only \(ER_OPTION_PREVENTS_STATEMENT\)/],
    [1213, /deadlocks .* \(ER_LOCK_DEADLOCK\)/],
  ])('MySQL errno %s without a code means the database cannot work now', (errno, reason) => {
    const error = Object.assign(new Error('driver message'), { errno });
    expect(unavailableReason(failed(error))).toMatch(reason);
  });

  it('knows node-postgres losing its connection without a code', () => {
    expect(unavailableReason(new Error('Connection terminated unexpectedly'))).toMatch(/lost/);
  });

  it.each([['SQLITE_CONSTRAINT_UNIQUE'], ['23505'], ['22001'], ['ER_DUP_ENTRY'], ['SQLITE_ERROR']])(
    '%s is a refused statement, not an outage',
    (code) => {
      expect(unavailableReason(failed(driver(code)))).toBeUndefined();
    },
  );

  it('never carries the driver message or the parameters into the reason', () => {
    const error = failed(driver('ECONNRESET', "reset while sending 'CLICK-SECRET'"));
    const classified = asUnavailable(error) as DatabaseUnavailableError;
    expect(classified).toBeInstanceOf(DatabaseUnavailableError);
    expect(classified.cause).toBe(error);
    expect(classified.message).not.toMatch(/SECRET/);
  });

  it('leaves other errors as they are', () => {
    const error = new Error('a bug');
    expect(asUnavailable(error)).toBe(error);
  });
});
