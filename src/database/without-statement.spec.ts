import { inspect } from 'node:util';

import { QueryFailedError } from 'typeorm';

import { asUnavailable } from './database-unavailable.classifier.js';
import { isRefusedValue, isUniqueViolation } from './postback-database.js';
import { withoutStatement } from './without-statement.js';

// As mysql2 fails a statement: its message quotes the value, `sql` holds the statement with it.
const mysqlDuplicate = () =>
  new QueryFailedError(
    'INSERT INTO `t` VALUES (?)',
    ['ORDER-SECRET'],
    Object.assign(new Error("Duplicate entry 'ORDER-SECRET' for key 'PRIMARY'"), {
      code: 'ER_DUP_ENTRY',
      errno: 1062,
      sql: "INSERT INTO `t` VALUES ('ORDER-SECRET')",
    }),
  );

describe('withoutStatement', () => {
  it('leaves nothing of the statement in what a logger prints, and keeps the classification', () => {
    const error = withoutStatement(mysqlDuplicate());
    expect(inspect(error, { depth: 10 })).not.toMatch(/SECRET|INSERT/);
    expect(String((error as Error).stack)).not.toMatch(/SECRET/);
    expect(isUniqueViolation(error)).toBe(true);
    expect(isRefusedValue(error)).toBe(true);
    expect((error as Error).message).toMatch(/Duplicate entry '…'.*ER_DUP_ENTRY/);
  });

  it('hides the values node-postgres puts in `detail`', () => {
    const duplicate = new QueryFailedError(
      'INSERT INTO "t" VALUES ($1)',
      ['ORDER-SECRET'],
      Object.assign(new Error('duplicate key value violates unique constraint "t_pkey"'), {
        code: '23505',
        detail: 'Key (order_id)=(ORDER-SECRET) already exists.',
      }),
    );
    const error = withoutStatement(duplicate);
    expect(inspect(error, { depth: 10 })).not.toMatch(/SECRET|INSERT/);
    expect(isUniqueViolation(error)).toBe(true);
  });

  it("reduces an outage's cause to its code and safe text", () => {
    const lost = new QueryFailedError(
      'SELECT $1',
      ['ORDER-SECRET'],
      Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }),
    );
    const error = withoutStatement(asUnavailable(lost)) as Error;
    const printed = inspect(error, { depth: 10 });
    expect(printed).not.toMatch(/SECRET|SELECT/);
    expect(printed).toMatch(/ECONNRESET/);
    expect((error.cause as { code?: string }).code).toBe('ECONNRESET');
  });
});
