import { DataSource } from 'typeorm';

import { PostbackConfigurationError } from '../../errors/postback-configuration.error.js';
import { DIALECTS, dialectOf } from './dialect-of.js';
import { MYSQL } from './mysql.dialect.js';
import { POSTGRES } from './postgres.dialect.js';
import { translate } from './sql-dialect.js';
import { SQLITE, SQLITE_WITHOUT_RETURNING } from './sqlite.dialect.js';

describe('SQL dialects', () => {
  it.each([
    ['better-sqlite3', SQLITE],
    ['sqljs', SQLITE_WITHOUT_RETURNING],
    ['postgres', POSTGRES],
    ['mysql', MYSQL],
    ['mariadb', MYSQL],
  ] as const)('%s is chosen by its DataSource type', (type, dialect) => {
    expect(dialectOf({ options: { type } } as DataSource)).toBe(dialect);
  });

  it('refuses an engine it has no dialect for', () => {
    expect(() => dialectOf({ options: { type: 'mssql' } } as DataSource)).toThrow(
      PostbackConfigurationError,
    );
  });

  // The texts raw-sql sends were translated by the drivers' own escape and createParameter
  // before the seam: the dialects must say exactly what they said.
  it.each([
    ['better-sqlite3', SQLITE],
    ['postgres', POSTGRES],
    ['mysql', MYSQL],
  ] as const)('%s quotes and numbers as its TypeORM driver does', (type, dialect) => {
    const driver = new DataSource({ type, database: ':memory:' } as never).driver;
    for (const name of ['postback_outbox', 'next_attempt_at', 'now']) {
      expect(dialect.quote(name)).toBe(driver.escape(name));
    }
    for (const index of [0, 1, 9]) {
      expect(dialect.parameter('x', index)).toBe(driver.createParameter('x', index));
    }
  });

  it.each(DIALECTS.map((d) => [d.engine, d] as const))('%s: translate and upsert', (_, dialect) => {
    const neutral = `INSERT INTO "t" ("a", "b") VALUES (:a, :b) ${dialect.upsert(['a'], ['b'])}`;
    expect(translate(dialect, neutral)).toMatchSnapshot();
  });

  it.each([
    [{ code: 'SQLITE_CONSTRAINT_UNIQUE' }, SQLITE],
    [{ driverError: { code: '23505' } }, POSTGRES],
    [{ driverError: { code: 'ER_DUP_ENTRY', errno: 1062 } }, MYSQL],
  ])('%j is a unique violation on its engine only', (error, dialect) => {
    for (const other of DIALECTS) expect(other.isUniqueViolation(error)).toBe(other === dialect);
  });
});
