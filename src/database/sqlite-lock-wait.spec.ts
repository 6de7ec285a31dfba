import { DataSource } from 'typeorm';

import { DatabaseUnavailableError } from './database-unavailable.error.js';
import { LOCK_PROBE_TIMEOUT_MS, SqliteLockWait } from './sqlite-lock-wait.js';

const busy = () => Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' });

describe('SqliteLockWait', () => {
  let dataSource: DataSource;
  const busyTimeout = () =>
    (
      dataSource.driver as unknown as {
        databaseConnection: { pragma(s: string, o: { simple: true }): unknown };
      }
    ).databaseConnection.pragma('busy_timeout', { simple: true });

  beforeEach(async () => {
    // The connection's busy timeout is the bound of the whole (asynchronous) wait.
    dataSource = await new DataSource({
      type: 'better-sqlite3',
      database: ':memory:',
      timeout: 300,
    }).initialize();
  });
  afterEach(() => dataSource.destroy());

  it('runs the work again while it meets the lock, and answers what it gives once free', async () => {
    const wait = new SqliteLockWait(dataSource, true);
    let tries = 0;
    const value = await wait.retry(async () => {
      if (++tries < 4) throw busy();
      return 'written';
    });
    expect([value, tries]).toEqual(['written', 4]);
  });

  it('gives up past the connection’s busy timeout with DatabaseUnavailableError', async () => {
    const wait = new SqliteLockWait(dataSource, true);
    let tries = 0;
    const failure = await wait
      .retry(async () => {
        tries++;
        throw busy();
      })
      .catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(DatabaseUnavailableError);
    expect((failure as DatabaseUnavailableError).reason).toMatch(/another process holds/);
    expect((failure as DatabaseUnavailableError).cause).toMatchObject({ code: 'SQLITE_BUSY' });
    expect(tries).toBeGreaterThan(1);
  });

  it('fails at once without waiting when asked, and lets any other error through', async () => {
    const wait = new SqliteLockWait(dataSource, true);
    let tries = 0;
    const once = async () => {
      tries++;
      throw busy();
    };
    await expect(wait.retry(once, false)).rejects.toBeInstanceOf(DatabaseUnavailableError);
    expect(tries).toBe(1);
    const other = new Error('no such table');
    await expect(wait.retry(() => Promise.reject(other))).rejects.toBe(other);
  });

  it('keeps the short busy timeout on a dedicated database', async () => {
    await new SqliteLockWait(dataSource, true).around(async () => undefined);
    expect(busyTimeout()).toBe(LOCK_PROBE_TIMEOUT_MS);
  });

  it('on a host’s DataSource, sets it around the module’s jobs only', async () => {
    const wait = new SqliteLockWait(dataSource, false);
    let during: unknown;
    await wait.around(async () => {
      during = busyTimeout();
    });
    expect([during, busyTimeout()]).toEqual([LOCK_PROBE_TIMEOUT_MS, 300]);
  });
});
