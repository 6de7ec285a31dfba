import Database from 'better-sqlite3';
import { QueryFailedError } from 'typeorm';

import { asQueryFailed } from './typeorm-compat.js';

describe('asQueryFailed', () => {
  function prepareError(): Error {
    const db = new Database(':memory:');
    try {
      db.prepare('SELECT * FROM missing');
    } catch (error) {
      return error as Error;
    } finally {
      db.close();
    }
    throw new Error('SQLite prepared a statement on a missing table');
  }

  it('wraps the SqliteError that TypeORM 0.3 lets out of a prepare, as 1.x wraps it', () => {
    const raw = prepareError();
    const wrapped = asQueryFailed(raw) as QueryFailedError;
    expect(wrapped).toBeInstanceOf(QueryFailedError);
    expect(wrapped.message).toMatch(/no such table: missing/);
    expect(wrapped.driverError).toBe(raw);
    expect((wrapped as unknown as { code: string }).code).toBe('SQLITE_ERROR');
  });

  it('leaves TypeORM’s own errors and other errors as they are', () => {
    const failed = new QueryFailedError('SELECT 1', [], prepareError());
    expect(asQueryFailed(failed)).toBe(failed);
    const other = Object.assign(new Error('the SQLite writer thread stopped'), { code: 'X' });
    expect(asQueryFailed(other)).toBe(other);
  });
});
