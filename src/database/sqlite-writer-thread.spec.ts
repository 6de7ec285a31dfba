import { DataSource } from 'typeorm';

import { tempDir } from '../../test/utils/sqlite.js';
import { PostbackDatabase } from './postback-database.js';
import { SqliteWriterThread } from './sqlite-writer-thread.js';

describe('SqliteWriterThread', () => {
  let dir: ReturnType<typeof tempDir>;
  let dataSource: DataSource;
  let writer: SqliteWriterThread | undefined;

  beforeEach(async () => {
    dir = tempDir();
    dataSource = await new DataSource({
      type: 'better-sqlite3',
      database: `${dir.path}/writer.sqlite`,
      enableWAL: true,
    }).initialize();
    await dataSource.query('CREATE TABLE t (id TEXT PRIMARY KEY, n INTEGER NOT NULL)');
  });
  afterEach(async () => {
    await writer?.close();
    writer = undefined;
    await dataSource.destroy();
    dir.remove();
  });

  const open = () =>
    (writer = new SqliteWriterThread({
      file: `${dir.path}/writer.sqlite`,
      synchronous: 'FULL',
      busyTimeoutMs: 1_000,
    }));
  const rows = () => dataSource.query('SELECT id, n FROM t ORDER BY id');

  it('runs a batch in one transaction: rows for RETURNING, counts for the others', async () => {
    const results = await open().run([
      { sql: 'INSERT INTO t (id, n) VALUES (?, ?), (?, ?)', values: ['a', 1, 'b', 2] },
      { sql: 'UPDATE t SET n = n + 10 WHERE id = ? RETURNING id, n', values: ['b'] },
      { sql: 'UPDATE t SET n = ? WHERE id = ?', values: [true, 'a'] },
    ]);
    expect(results).toEqual([2, [{ id: 'b', n: 12 }], 1]);
    // Written by the other connection, and committed: the main one sees it.
    expect(await rows()).toEqual([
      { id: 'a', n: 1 },
      { id: 'b', n: 12 },
    ]);
  });

  it('rolls the whole batch back when a statement fails, with the driver error code', async () => {
    await dataSource.query(`INSERT INTO t (id, n) VALUES ('taken', 0)`);
    await expect(
      open().run([
        { sql: 'INSERT INTO t (id, n) VALUES (?, ?)', values: ['new', 1] },
        { sql: 'INSERT INTO t (id, n) VALUES (?, ?)', values: ['taken', 2] },
      ]),
    ).rejects.toMatchObject({ code: 'SQLITE_CONSTRAINT_PRIMARYKEY' });
    expect(await rows()).toEqual([{ id: 'taken', n: 0 }]);
    // The thread goes on with the next batch.
    await writer!.run([{ sql: 'INSERT INTO t (id, n) VALUES (?, ?)', values: ['next', 3] }]);
    expect((await rows()).map((r: { id: string }) => r.id)).toEqual(['next', 'taken']);
  });

  it('fails the batches of a thread that dies, and starts a new thread for the next', async () => {
    const thread = open();
    await thread.run([{ sql: 'INSERT INTO t (id, n) VALUES (?, ?)', values: ['a', 1] }]);
    const worker = (thread as unknown as { worker: { terminate(): Promise<number> } }).worker;
    // A batch that is still running when the thread dies (a quick one may have finished).
    const slow = `INSERT INTO t (id, n) SELECT ?, count(*) FROM (WITH RECURSIVE c(x) AS
      (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 5000000) SELECT x FROM c)`;
    const dying = thread.run([{ sql: slow, values: ['b'] }]);
    await new Promise((resolve) => setTimeout(resolve, 20));
    await worker.terminate();
    await expect(dying).rejects.toThrow(/writer thread stopped/);
    await thread.run([{ sql: 'INSERT INTO t (id, n) VALUES (?, ?)', values: ['c', 3] }]);
    expect((await rows()).map((r: { id: string }) => r.id)).toContain('c');
  });

  it('finishes the batches already sent before it closes', async () => {
    const thread = open();
    const sent = thread.run([{ sql: 'INSERT INTO t (id, n) VALUES (?, ?)', values: ['a', 1] }]);
    await thread.close();
    await expect(sent).resolves.toEqual([1]);
    expect(await rows()).toEqual([{ id: 'a', n: 1 }]);
  });
});

describe('PostbackDatabase with a writer thread', () => {
  let dir: ReturnType<typeof tempDir>;
  beforeEach(() => (dir = tempDir()));
  afterEach(() => dir.remove());

  const dataSourceAt = (database: string) =>
    new DataSource({ type: 'better-sqlite3', database, enableWAL: true }).initialize();

  it('uses one only where asked, on a SQLite file', async () => {
    const file = await dataSourceAt(`${dir.path}/file.sqlite`);
    const memory = await dataSourceAt(':memory:');
    try {
      expect(new PostbackDatabase(file, { sqliteWriterThread: true }).offThread).toBe(true);
      expect(new PostbackDatabase(file).offThread).toBe(false);
      expect(new PostbackDatabase(memory, { sqliteWriterThread: true }).offThread).toBe(false);
    } finally {
      await file.destroy();
      await memory.destroy();
    }
  });

  it('queues its batches with the main connection, so neither meets the other mid-transaction', async () => {
    const dataSource = await dataSourceAt(`${dir.path}/queue.sqlite`);
    const db = new PostbackDatabase(dataSource, { sqliteWriterThread: true });
    try {
      await dataSource.query('CREATE TABLE counter (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)');
      await dataSource.query('INSERT INTO counter (id, n) VALUES (1, 0)');
      // Read-then-write transactions on the main connection, each sending a batch to the
      // thread between its read and its write. Were the batch to commit there, the main
      // transaction would fail on its stale snapshot, or lose an increment.
      const batches: Promise<unknown>[] = [];
      const increment = () =>
        db.transaction(async (m) => {
          const [{ n }] = (await m.query('SELECT n FROM counter WHERE id = 1')) as { n: number }[];
          batches.push(
            db.writeOffThread([{ sql: 'UPDATE counter SET n = n + 1 WHERE id = 1', values: [] }]),
          );
          await new Promise((resolve) => setTimeout(resolve, 20));
          await m.query('UPDATE counter SET n = ? WHERE id = 1', [n + 1]);
        });
      await Promise.all(Array.from({ length: 30 }, increment));
      await Promise.all(batches);
      expect(await dataSource.query('SELECT n FROM counter')).toEqual([{ n: 60 }]);
    } finally {
      await db.onApplicationShutdown();
      await dataSource.destroy();
    }
  });
});
