import { MYSQL } from '../database/dialect/mysql.dialect.js';
import { POSTGRES } from '../database/dialect/postgres.dialect.js';
import { translate, type SqlDialect } from '../database/dialect/sql-dialect.js';
import { SQLITE } from '../database/dialect/sqlite.dialect.js';
import {
  claimReturningSql,
  clockSql,
  deliveredReturningText,
  deliveredUpdateText,
  DUE_COLUMNS,
  dueRowColumns,
  dueSelectSql,
  leaseUpdateSql,
  markStatements,
  oneStatementSql,
  ownedSelectSql,
  ROUND_PARTS,
} from './outbox.sql.js';

/** The columns of a claimed row, as the Postback entity names them. */
const CLAIMED = [
  'id',
  'tracker',
  'fields',
  'attempts',
  'next_attempt_at',
  'after_postback_id',
  'claim_token',
  'created_at',
];
const TABLE = 'shop_postback_outbox';

/** Every statement of the outbox as the engine receives it, in a fixed order. */
function statements(dialect: SqlDialect): Record<string, string | undefined> {
  const p: Record<string, unknown> = {};
  const due = { state: 'pending' as const, now: 1, limit: 50 };
  const dueFull = { ...due, skip: ['a', 'b'], from: 0 };
  const select = dueSelectSql(dialect, TABLE, dueFull, DUE_COLUMNS, p);
  const texts: Record<string, string | undefined> = {
    'due select (sweep, expired leases)': dueSelectSql(
      dialect,
      TABLE,
      { ...due, state: 'in_flight' },
      dueRowColumns(CLAIMED),
      p,
    ),
    'due select (floor, skipped trackers)': select,
    'lease update (2 rows)': leaseUpdateSql(TABLE, ['x', 'y'], p),
    'claim returning': dialect.updateReturning
      ? claimReturningSql(dialect, TABLE, select, CLAIMED)
      : undefined,
    'delivered update (2 rows)': deliveredUpdateText(TABLE, 2),
    'delivered update returning (2 rows)': dialect.updateReturning
      ? deliveredReturningText(TABLE, 2)
      : undefined,
    'owned select (2 rows)': dialect.updateReturning
      ? undefined
      : ownedSelectSql(dialect, TABLE, ['x', 'y'], p),
    'send marks (2 claims)': markStatements(
      TABLE,
      [
        { id: 'x', claimToken: 't1' },
        { id: 'y', claimToken: 't2' },
      ],
      1,
      p,
    ).join(';\n'),
    'one statement (marks, attempts, a delivered group, a claim)': dialect.writableCte
      ? oneStatementSql(
          [
            ROUND_PARTS.mark(0, markStatements(TABLE, [{ id: 'x', claimToken: 't' }], 1, p)[0]),
            ROUND_PARTS.attempts(
              0,
              'INSERT INTO "postback_attempts" ("id", "attempt") VALUES (:a0r0_id, :a0r0_attempt)',
            ),
            ROUND_PARTS.settled(0, deliveredReturningText(TABLE, 1, 's0')),
            ROUND_PARTS.due(select),
            ROUND_PARTS.claim(TABLE, CLAIMED),
          ],
          [ROUND_PARTS.claimOutput(CLAIMED), ROUND_PARTS.settledOutput(0, CLAIMED)],
        )
      : undefined,
    'one statement (marks alone)': dialect.writableCte
      ? oneStatementSql(
          [`"m0" AS (${markStatements(TABLE, [{ id: 'x', claimToken: 't' }], 1, p)[0]})`],
          [],
        )
      : undefined,
  };
  const translated: Record<string, string | undefined> = {};
  for (const [name, text] of Object.entries(texts)) {
    translated[name] = text === undefined ? undefined : translate(dialect, text).sql;
  }
  translated['server clock'] = clockSql(dialect);
  return translated;
}

describe.each([
  ['SQLite', SQLITE],
  ['PostgreSQL', POSTGRES],
  ['MySQL/MariaDB', MYSQL],
])('outbox statements on %s', (_, dialect) => {
  it.each(Object.entries(statements(dialect)))('%s', (_name, sql) => {
    expect(sql).toMatchSnapshot();
  });
});
