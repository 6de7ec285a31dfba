import type { INestApplication } from '@nestjs/common';

import { Click, ClickService, Conversion, ConversionService } from '../../src/index.js';
import type { VisitorDigest } from '../../src/click/visitor-keys.js';
import { PostbackDatabase } from '../../src/database/postback-database.js';
import { startShopApp } from '../fixtures/shop-app.js';
import { describeEachDatabase, testDatabases } from '../utils/test-databases.js';

/**
 * IDs compare byte for byte on every engine. MySQL and MariaDB's default collations would
 * make "ORD-A" a duplicate of "ord-a" (a purchase swallowed) and merge click "AbCdE" into
 * "abcde" (a postback with the wrong click ID).
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
        trackers: [
          {
            name: 'net',
            clickParams: ['cid'],
            subParams: ['sub1'],
            postback: { url: 'http://127.0.0.1:9/pb?c={click_id}' },
          },
        ],
        outbox: { enabled: false },
      },
    });
  });
  afterAll(async () => {
    await app?.close();
    await drop?.();
  });

  it.each([
    ['case', 'ord-a', 'ORD-A'],
    ['accents', 'cafe', 'café'],
    ['trailing space', 'ord-b', 'ord-b '],
  ])('keeps orders apart that differ only by %s', async (_what, first, second) => {
    const conversions = app.get(ConversionService);
    const event = { type: 'purchase', amount: '10.00', currency: 'EUR', clickId: `click-${first}` };
    const a = await conversions.record({ ...event, orderId: first });
    const b = await conversions.record({ ...event, orderId: second, amount: '99.00' });
    expect([a.duplicate, b.duplicate]).toEqual([false, false]);
    expect(b.conversionId).not.toBe(a.conversionId);
    const stored = await app
      .get(PostbackDatabase)
      .run((m) => m.findOneByOrFail(Conversion, { id: b.conversionId }));
    expect(stored.reference).toBe(second);
  });

  it('keeps clicks apart that differ only by case, and finds each exactly', async () => {
    const clicks = app.get(ClickService);
    await clicks.capture({ tracker: 'net', clickId: 'AbCdE', visitorKey: 'v1' });
    await clicks.capture({ tracker: 'net', clickId: 'abcde', visitorKey: 'v1' });
    const db = app.get(PostbackDatabase);
    const rows = await db.run((m) =>
      m.find(Click, { where: { visitorKey: clicks.visitorKeys.digest('v1') as VisitorDigest } }),
    );
    expect(rows.map((r) => r.clickId).sort()).toEqual(['AbCdE', 'abcde']);
    const found = await db.run((m) => clicks.findByClickId(m, 'abcde', 'net'));
    expect(found?.clickId).toBe('abcde');
  });

  it('reads clicks through raw SQL exactly as TypeORM reads them (numbers, JSON, nulls)', async () => {
    const clicks = app.get(ClickService);
    await clicks.capture({
      tracker: 'net',
      clickId: 'raw-1',
      visitorKey: 'v2',
      customerId: 'K2',
      subParams: { sub1: 'a"b' },
    });
    const db = app.get(PostbackDatabase);
    const viaTypeOrm = await db.run((m) => m.findOneByOrFail(Click, { clickId: 'raw-1' }));
    expect(typeof viaTypeOrm.lastSeenAt).toBe('number');
    const since = viaTypeOrm.lastSeenAt - 1;
    const visitor = clicks.visitorKeys.digest('v2') as VisitorDigest;
    const found = await db.run(async (m) => [
      await clicks.findByClickId(m, 'raw-1', 'net'),
      await clicks.findByClickId(m, 'raw-1'),
      await clicks.findByClickId(m, 'raw-1', undefined, viaTypeOrm.lastSeenAt),
      await clicks.findForVisitor(m, 'raw-1', 'net', visitor),
      ...(await clicks.findRecent(m, { visitor }, since, viaTypeOrm.firstSeenAt)),
      ...(await clicks.findRecent(m, { customerId: 'K2' }, since, viaTypeOrm.firstSeenAt)),
    ]);
    expect(found).toEqual(Array(6).fill(viaTypeOrm));
  });
});
