import { jest } from '@jest/globals';
import { type INestApplication, Logger } from '@nestjs/common';

import { Click, ClickService } from '../../src/index.js';
import { ClickWriteBuffer } from '../../src/click/click-write-buffer.js';
import { PostbackDatabase } from '../../src/database/postback-database.js';
import { startShopApp } from '../fixtures/shop-app.js';
import { describeEachDatabase, testDatabases } from '../utils/test-databases.js';

/**
 * The buffered click writes on every engine: one multi-row upsert per set of overwritten
 * columns, with the semantics of a click written alone, and a row the server refuses kept
 * from holding back the others.
 */
describeEachDatabase(await testDatabases(), (database) => {
  let app: INestApplication;
  let drop: () => Promise<void>;
  let now = 1_000;

  beforeAll(async () => {
    const created = await database.create();
    drop = created.drop;
    app = await startShopApp({
      databaseUrl: created.url,
      options: {
        trackers: [
          {
            name: 'net',
            clickParams: ['cid'],
            subParams: ['s'],
            postback: { url: 'http://127.0.0.1:9/pb?c={click_id}' },
          },
        ],
        // Written only when the test says so.
        capture: { bufferMs: 60_000 },
        outbox: { enabled: false },
        clock: () => now,
      },
    });
  });
  afterAll(async () => {
    await app?.close();
    await drop?.();
  });

  const rowsOf = (clickIds: string[]) =>
    app
      .get(PostbackDatabase)
      .run((m) =>
        m
          .createQueryBuilder(Click, 'c')
          .where('c.click_id IN (:...clickIds)', { clickIds })
          .orderBy('c.click_id', 'ASC')
          .getMany(),
      );

  it('merges a batch as if each landing had been written alone, against existing rows too', async () => {
    const clicks = app.get(ClickService);
    const buffer = app.get(ClickWriteBuffer);
    const land = (clickId: string, extra: Record<string, unknown> = {}) =>
      buffer.add(clicks.prepare({ tracker: 'net', clickId, visitorKey: 'v', ...extra }));

    now = 1_000;
    const old = await clicks.capture({
      tracker: 'net',
      clickId: 'm-1',
      visitorKey: 'v',
      customerId: 'cust-old',
      subParams: { s: 'old' },
      landingPath: '/a',
    });
    await clicks.capture({ tracker: 'net', clickId: 'm-2', visitorKey: 'v', landingPath: '/a' });

    now = 2_000;
    land('m-1', { landingPath: '/b' }); // says nothing about customer or sub-parameters
    now = 3_000;
    land('m-1', { landingPath: '/c', subParams: { s: 'new' } });
    land('m-2', { landingPath: '/d', customerId: 'cust-2' });
    land('m-3', { landingPath: '/e', subParams: { s: 'x' }, customerId: 'cust-3' });
    land('m-4', { landingPath: '/f' });
    expect(buffer.pending).toBe(4);
    await buffer.flushNow();
    expect(buffer.pending).toBe(0);

    const [m1, m2, m3, m4] = await rowsOf(['m-1', 'm-2', 'm-3', 'm-4']);
    expect(m1).toMatchObject({
      id: old.id,
      customerId: 'cust-old',
      subParams: { s: 'new' },
      landingPath: '/c',
      firstSeenAt: 1_000,
      lastSeenAt: 3_000,
    });
    expect(m2).toMatchObject({ customerId: 'cust-2', subParams: null, landingPath: '/d' });
    expect(m3).toMatchObject({ customerId: 'cust-3', subParams: { s: 'x' }, firstSeenAt: 3_000 });
    expect(m4).toMatchObject({ customerId: null, subParams: null, landingPath: '/f' });
  });

  it('writes a batch larger than one statement in one go', async () => {
    const clicks = app.get(ClickService);
    const buffer = app.get(ClickWriteBuffer);
    // 512 + 256 + 128 + 64 + 16 + 4 + 1 rows in statements; the first half has a customer.
    const ids = Array.from({ length: 981 }, (_, i) => `big-${String(i).padStart(4, '0')}`);
    ids.forEach((clickId, i) =>
      buffer.add(
        clicks.prepare({
          tracker: 'net',
          clickId,
          visitorKey: `v-${i % 7}`,
          customerId: i < 490 ? `c-${i}` : undefined,
        }),
      ),
    );
    await buffer.flushNow();
    const rows = await rowsOf(ids);
    expect(rows.map((r) => r.clickId)).toEqual(ids);
    expect(rows.filter((r) => r.customerId !== null)).toHaveLength(490);
  });

  it('logs and leaves out a row the server refuses; the rest of the batch is stored', async () => {
    const error = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    try {
      const clicks = app.get(ClickService);
      const buffer = app.get(ClickWriteBuffer);
      buffer.add(clicks.prepare({ tracker: 'net', clickId: 'r-1', visitorKey: 'v' }));
      // Impossible through prepare(): a row the schema refuses (landing_path is NOT NULL).
      buffer.add({ ...clicks.prepare({ tracker: 'net', clickId: 'r-2' }), landingPath: null! });
      buffer.add(clicks.prepare({ tracker: 'net', clickId: 'r-3', visitorKey: 'v' }));
      await buffer.flushNow();
      expect((await rowsOf(['r-1', 'r-2', 'r-3'])).map((r) => r.clickId)).toEqual(['r-1', 'r-3']);
      expect(buffer.pending).toBe(0);
      expect(error).toHaveBeenCalledWith(expect.stringMatching(/refused a click of tracker "net"/));
    } finally {
      error.mockRestore();
    }
  });
});
