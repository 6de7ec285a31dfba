import { DatabaseUnavailableError } from '../database/database-unavailable.error.js';
import type { PostbackDatabase } from '../database/postback-database.js';
import type { Click } from './click.entity.js';
import { takeClicks } from './click-intake.js';
import type { ClickWriteBuffer } from './click-write-buffer.js';

const row = (clickId: string) =>
  ({ tracker: 't', clickId, visitorKey: 'v', subParams: null }) as unknown as Click;
const locked = new DatabaseUnavailableError('another process holds the lock', 3);

function buffer(capacity: number) {
  const held: Click[] = [];
  return {
    held,
    get pending() {
      return held.length;
    },
    offer: (rows: Click[]) => (held.length + rows.length > capacity ? false : !!held.push(...rows)),
  };
}

describe('takeClicks (the agent’s POST /v1/clicks)', () => {
  const database = (run: () => Promise<unknown>) => ({ run }) as unknown as PostbackDatabase;

  it('stores the clicks now when the database takes them', async () => {
    const held = buffer(10);
    const taken = await takeClicks(
      database(async () => ({ id: 'stored' })),
      held as unknown as ClickWriteBuffer,
      [row('a'), row('b')],
    );
    expect(taken).toEqual({ stored: [{ id: 'stored' }, { id: 'stored' }], queued: [] });
  });

  it('hands them to the capture buffer when the database cannot take them now', async () => {
    const held = buffer(10);
    const taken = await takeClicks(
      database(() => Promise.reject(locked)),
      held as unknown as ClickWriteBuffer,
      [row('a'), row('b')],
    );
    expect(taken.queued.map((c) => c.clickId)).toEqual(['a', 'b']);
    expect(held.held).toHaveLength(2);
  });

  it('refuses them with DatabaseUnavailableError (503) when the buffer cannot hold them', async () => {
    const failure = await takeClicks(
      database(() => Promise.reject(locked)),
      buffer(1) as unknown as ClickWriteBuffer,
      [row('a'), row('b')],
    ).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(DatabaseUnavailableError);
    expect((failure as DatabaseUnavailableError).retryAfterSeconds).toBe(3);
  });

  it('queues behind clicks the buffer holds already, so no older landing overwrites a newer', async () => {
    const held = buffer(10);
    held.offer([row('older')]);
    let writes = 0;
    const taken = await takeClicks(
      database(async () => (writes++, {})),
      held as unknown as ClickWriteBuffer,
      [row('newer')],
    );
    expect([writes, taken.queued.map((c) => c.clickId)]).toEqual([0, ['newer']]);
  });
});
