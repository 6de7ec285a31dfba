import type { INestApplication } from '@nestjs/common';

import { Click, ClickService } from '../../src/index.js';
import { ClickWriteBuffer } from '../../src/click/click-write-buffer.js';
import { DatabaseUnavailableError } from '../../src/errors/database-unavailable.error.js';
import { PostbackDatabase } from '../../src/database/postback-database.js';
import { startShopApp } from '../fixtures/shop-app.js';
import { describeEachDatabase, testDatabases } from '../utils/test-databases.js';

/**
 * The agent's way of taking forwarded clicks (`POST /v1/clicks`), on every engine: stored at
 * once when the database takes them, readable the moment the call returns; refused at once
 * when it cannot take them now, with nothing kept in memory (the caller sends them again).
 */
describeEachDatabase(await testDatabases(), (database) => {
  let app: INestApplication;
  let drop: () => Promise<void>;

  beforeAll(async () => {
    const created = await database.create();
    drop = created.drop;
    app = await startShopApp({
      databaseUrl: created.url,
      options: {
        trackers: [{ name: 'net', clickParams: ['cid'], postback: { url: 'http://127.0.0.1:9/' } }],
        capture: { bufferMs: 10 },
        outbox: { enabled: false },
      },
    });
  });
  afterAll(async () => {
    await app?.close();
    await drop?.();
  });

  const stored = (clickIds: string[]) =>
    app
      .get(PostbackDatabase)
      .run((m) =>
        m
          .createQueryBuilder(Click, 'c')
          .where('c.click_id IN (:...clickIds)', { clickIds })
          .getCount(),
      );

  it('stores the clicks at once when the database takes them', async () => {
    const taken = await app.get(ClickService).take([
      { tracker: 'net', clickId: 'now-1', visitorKey: 'v' },
      { tracker: 'net', clickId: 'now-2', visitorKey: 'v' },
    ]);
    expect(taken.map((c) => [c.clickId, typeof c.id])).toEqual([
      ['now-1', 'string'],
      ['now-2', 'string'],
    ]);
    expect(await stored(['now-1', 'now-2'])).toBe(2);
  });

  it('refuses the clicks the database cannot take now, keeping none in memory', async () => {
    const db = app.get(PostbackDatabase);
    const run = db.run.bind(db);
    // The next write fails at once, as a locked or failing database does.
    db.run = (async () => {
      db.run = run;
      throw new DatabaseUnavailableError('test: the database is not taking writes');
    }) as typeof db.run;
    const clicks = [
      { tracker: 'net', clickId: 'later-1', visitorKey: 'v' },
      { tracker: 'net', clickId: 'later-2', visitorKey: 'v' },
    ];
    await expect(app.get(ClickService).take(clicks)).rejects.toBeInstanceOf(
      DatabaseUnavailableError,
    );
    // Nothing a kill -9 could lose after the caller was answered: it holds them still.
    expect(app.get(ClickWriteBuffer).pending).toBe(0);
    await app.get(ClickWriteBuffer).flushNow();
    expect(await stored(['later-1', 'later-2'])).toBe(0);
    // Sent again, once the database takes writes.
    await app.get(ClickService).take(clicks);
    expect(await stored(['later-1', 'later-2'])).toBe(2);
  });
});
