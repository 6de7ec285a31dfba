import { DatabaseUnavailableError } from '../errors/database-unavailable.error.js';
import type { PostbackDatabase } from '../database/postback-database.js';
import type { Click } from './click.entity.js';
import { takeClicks } from './click-intake.js';

const row = (clickId: string) =>
  ({ tracker: 't', clickId, visitorKey: 'v', subParams: null }) as unknown as Click;
const locked = new DatabaseUnavailableError('another process holds the lock', 3);

describe('takeClicks (the agent’s POST /v1/clicks)', () => {
  const database = (run: PostbackDatabase['run']) => ({ run }) as unknown as PostbackDatabase;

  it('stores the clicks now when the database takes them', async () => {
    const taken = await takeClicks(
      database(async () => ({ id: 'stored' }) as never),
      [row('a'), row('b')],
    );
    expect(taken).toEqual([{ id: 'stored' }, { id: 'stored' }]);
  });

  it('refuses them at once (503) when the database cannot take them now, without waiting', async () => {
    const options: unknown[] = [];
    const failure = await takeClicks(
      database((_work, given) => (options.push(given), Promise.reject(locked))),
      [row('a'), row('b')],
    ).catch((error: unknown) => error);
    expect(failure).toBe(locked);
    expect(options).toEqual([{ waitForLock: false }]);
  });
});
