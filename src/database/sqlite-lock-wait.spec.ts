import { DataSource } from 'typeorm';

import { DatabaseUnavailableError } from '../errors/database-unavailable.error.js';
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
  afterEach(async () => {
    if (dataSource.isInitialized) await dataSource.destroy();
  });

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

  it('runs a job as it is once the host has destroyed its DataSource, before it or during it', async () => {
    // A host's app closing: Nest may shut its TypeOrmModule down before this module (TypeORM
    // keeps the closed connection), and a queued job of the module's runs after that.
    const wait = new SqliteLockWait(dataSource, false);
    await wait.around(async () => undefined); // the connection seen, the host's timeout read
    await expect(
      wait.around(async () => {
        await dataSource.destroy();
        return 'ran';
      }),
    ).resolves.toBe('ran');
    await expect(wait.around(async () => 'ran again')).resolves.toBe('ran again');
  });

  it('lets one gate probe the lock for every waiting caller, not each caller its own tries', async () => {
    let locked = true;
    let probes = 0;
    let triesWhileLocked = 0;
    const wait = new SqliteLockWait(dataSource, true, async (job) => {
      probes++;
      if (locked) return false; // the probe's BEGIN IMMEDIATE met the lock
      return job();
    });
    const attempt = async () => {
      if (!locked) return 'written';
      triesWhileLocked++;
      throw busy();
    };
    const first = wait.retry(attempt);
    await new Promise((resolve) => setTimeout(resolve, 10));
    // Callers arriving while one already waits: each tries once (it may be a read, which needs
    // no write lock), then waits for the gate: no try of theirs is a probe of its own.
    const others = Array.from({ length: 20 }, () => wait.retry(attempt));
    await new Promise((resolve) => setTimeout(resolve, 100)); // within the 300 ms bound
    locked = false;
    expect(await Promise.all([first, ...others])).toEqual(Array(21).fill('written'));
    expect(triesWhileLocked).toBe(21);
    // One schedule of probes (5, 10, 20… ms) for 21 callers, not 21 of them.
    expect(probes).toBeLessThan(10);
  });
});
