import { DataSource } from 'typeorm';

import { DatabaseUnavailableError } from '../errors/database-unavailable.error.js';
import { PostbackDatabase } from './postback-database.js';

/** better-sqlite3's connection, its `prepare` counting the runs of `SELECT total_changes()`. */
function countChangeQueries(dataSource: DataSource): { runs: number } {
  const counter = { runs: 0 };
  const connection = (dataSource.driver as unknown as { databaseConnection: any })
    .databaseConnection;
  const prepare = connection.prepare.bind(connection);
  connection.prepare = (sql: string) => {
    const statement = prepare(sql);
    if (!/total_changes/.test(sql)) return statement;
    const plucked = statement.pluck();
    return {
      pluck: () => ({
        get: () => {
          counter.runs++;
          return plucked.get();
        },
      }),
    };
  };
  return counter;
}

describe('PostbackDatabase on SQLite, whether a unit changed rows', () => {
  let dataSource: DataSource;
  let db: PostbackDatabase;
  beforeEach(async () => {
    dataSource = await new DataSource({
      type: 'better-sqlite3',
      database: ':memory:',
    }).initialize();
    await dataSource.query('CREATE TABLE t (id TEXT PRIMARY KEY)');
    db = new PostbackDatabase(dataSource);
  });
  afterEach(() => dataSource.destroy());

  it('is not measured while writes go through: nothing to clear', async () => {
    const counter = countChangeQueries(dataSource);
    await db.transaction((m) => m.query("INSERT INTO t (id) VALUES ('a')"));
    await db.groupedTransaction((m) => m.query("INSERT INTO t (id) VALUES ('b')"));
    await db.run((m) => m.query("INSERT INTO t (id) VALUES ('c')"));
    expect(counter.runs).toBe(0);
  });

  it('is measured while writes are failing, and a unit that changed rows clears the failure', async () => {
    const counter = countChangeQueries(dataSource);
    db.writeHealth.failed(new DatabaseUnavailableError('disk full'));
    await db.run((m) => m.query('SELECT 1'));
    expect(db.writeHealth.failure).toBeDefined();
    await db.transaction((m) => m.query("INSERT INTO t (id) VALUES ('a')"));
    expect(db.writeHealth.failure).toBeUndefined();
    expect(counter.runs).toBe(4);
  });
});
