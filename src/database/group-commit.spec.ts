import type { Database } from 'better-sqlite3';
import { DataSource, type EntityManager, type Logger } from 'typeorm';

import { InvalidInputError } from '../errors/invalid-input.error.js';
import { DatabaseUnavailableError } from '../errors/database-unavailable.error.js';
import { GroupCommit } from './group-commit.js';
import { PostbackDatabase } from './postback-database.js';
import { isSqliteBusy } from './sqlite-lock-wait.js';

/** Counts the transactions TypeORM begins. */
class BeginCounter implements Logger {
  begins = 0;
  logQuery(query: string): void {
    if (/^BEGIN/i.test(query)) this.begins++;
  }
  logQueryError(): void {}
  logQuerySlow(): void {}
  logSchemaBuild(): void {}
  logMigration(): void {}
  log(): void {}
}

describe('GroupCommit on SQLite', () => {
  let dataSource: DataSource;
  let db: PostbackDatabase;
  let counter: BeginCounter;

  beforeEach(async () => {
    counter = new BeginCounter();
    dataSource = await new DataSource({
      type: 'better-sqlite3',
      database: ':memory:',
      logging: ['query'],
      logger: counter,
    }).initialize();
    await dataSource.query('CREATE TABLE t (id TEXT PRIMARY KEY)');
    db = new PostbackDatabase(dataSource);
    counter.begins = 0;
  });
  afterEach(() => dataSource.destroy());

  const insert = (id: string) => (m: EntityManager) =>
    m.query('INSERT INTO t (id) VALUES (?)', [id]);
  const ids = async () =>
    ((await dataSource.query('SELECT id FROM t ORDER BY id')) as { id: string }[]).map((r) => r.id);

  it('commits units that arrive together in one transaction, answering each', async () => {
    const results = await Promise.all(
      ['a', 'b', 'c', 'd'].map((id) =>
        db.groupedTransaction(async (m) => (await insert(id)(m), id)),
      ),
    );
    expect(results).toEqual(['a', 'b', 'c', 'd']);
    expect(await ids()).toEqual(['a', 'b', 'c', 'd']);
    expect(counter.begins).toBe(1);
  });

  it('when SQLite rolls the shared transaction back itself, fails every unit with the reason and starts clean', async () => {
    const connection = (dataSource.driver as unknown as { databaseConnection: Database })
      .databaseConnection;
    const outcomes = await Promise.allSettled([
      db.groupedTransaction(insert('a')),
      db.groupedTransaction(async (m) => {
        await insert('b')(m);
        // What SQLite does on some SQLITE_FULL and SQLITE_IOERR failures: the whole
        // transaction is gone, behind TypeORM's back.
        connection.exec('ROLLBACK');
        throw Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });
      }),
      db.groupedTransaction(insert('c')),
    ]);
    for (const outcome of outcomes) {
      expect(outcome).toMatchObject({
        status: 'rejected',
        reason: expect.any(DatabaseUnavailableError),
      });
    }
    expect(connection.inTransaction).toBe(false);
    expect(await ids()).toEqual([]);
    // The next unit is a transaction of its own again, not a savepoint in a stale one.
    await db.groupedTransaction(insert('d'));
    expect(connection.inTransaction).toBe(false);
    expect(await ids()).toEqual(['d']);
  });

  it('rolls back a failing unit alone, its rows included, and gives its caller its error', async () => {
    const outcomes = await Promise.allSettled([
      db.groupedTransaction(insert('a')),
      db.groupedTransaction(async (m) => {
        await insert('b')(m);
        throw new Error('refused after writing');
      }),
      db.groupedTransaction(insert('a')), // a unique violation, after "a" in the same batch
      db.groupedTransaction(insert('c')),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual([
      'fulfilled',
      'rejected',
      'rejected',
      'fulfilled',
    ]);
    expect(((outcomes[1] as PromiseRejectedResult).reason as Error).message).toBe(
      'refused after writing',
    );
    expect(await ids()).toEqual(['a', 'c']);
    expect(counter.begins).toBe(1);
  });

  it('commits a lone unit without waiting for company', async () => {
    await db.groupedTransaction(insert('a'));
    await db.groupedTransaction(insert('b'));
    expect(await ids()).toEqual(['a', 'b']);
    expect(counter.begins).toBe(2);
  });
});

describe('GroupCommit when the shared transaction fails', () => {
  it("fails every unit with the batch's error, but for a unit whose input was refused", async () => {
    const manager = { query: async () => undefined } as unknown as EntityManager;
    const group = new GroupCommit(
      (job) => void job(),
      async (work) => {
        await work(manager);
        throw new Error('disk I/O error at COMMIT');
      },
    );
    const outcomes = await Promise.allSettled([
      group.submit(async () => 'a'),
      group.submit(async () => {
        throw new InvalidInputError({ amount: ['not a decimal'] });
      }),
      // A duplicate met in the batch that rolled back: it was never committed before either.
      group.submit(async () => {
        throw Object.assign(new Error('UNIQUE constraint failed'), {
          code: 'SQLITE_CONSTRAINT_UNIQUE',
        });
      }),
      group.submit(async () => 'd'),
    ]);
    expect(outcomes.map((o) => (o as PromiseRejectedResult).reason?.message)).toEqual([
      'disk I/O error at COMMIT',
      'Invalid input: amount not a decimal',
      'disk I/O error at COMMIT',
      'disk I/O error at COMMIT',
    ]);
  });
});

describe('GroupCommit when a unit meets a lock held by another process', () => {
  it('stops the batch there: the units after it are not run, and every unit fails', async () => {
    const statements: string[] = [];
    const manager = {
      query: async (sql: string) => void statements.push(sql),
    } as unknown as EntityManager;
    let rolledBack = false;
    const group = new GroupCommit(
      (job) => void job(),
      async (work) => {
        try {
          return await work(manager);
        } catch (error) {
          rolledBack = true;
          throw error;
        }
      },
      isSqliteBusy,
    );
    const busy = Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' });
    const ran: string[] = [];
    const outcomes = await Promise.allSettled([
      group.submit(async () => ran.push('a')),
      group.submit(async () => {
        ran.push('b');
        throw busy;
      }),
      group.submit(async () => ran.push('c')),
    ]);
    expect(ran).toEqual(['a', 'b']);
    expect(rolledBack).toBe(true);
    expect(outcomes.map((o) => (o as PromiseRejectedResult).reason)).toEqual([busy, busy, busy]);
    expect(statements).not.toContain('ROLLBACK TO SAVEPOINT postback_unit');
  });
});
