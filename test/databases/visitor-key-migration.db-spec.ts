import { createHash } from 'node:crypto';

import { DataSource } from 'typeorm';

import { Click, Conversion, ConversionService } from '../../src/index.js';
import { VISITOR_KEY_SECRET_ENV, visitorKeyDigest } from '../../src/click/visitor-key.js';
import { postbackDataSourceOptions } from '../../src/database/data-source-options.js';
import { CreatePostbackTables1764000000000 } from '../../src/database/migrations/1764000000000-CreatePostbackTables.js';
import { DropClickIdIndex1764200000000 } from '../../src/database/migrations/1764200000000-DropClickIdIndex.js';
import { PostbackDatabase } from '../../src/database/postback-database.js';
import { startShopApp } from '../fixtures/shop-app.js';
import { describeEachDatabase, testDatabases } from '../utils/test-databases.js';

const SECRET = 'visitor-key-secret-0123456789';
/** Longer than the column: earlier versions stored its SHA-256 instead. */
const LONG_KEY = `signed-cookie.${'x'.repeat(200)}`;
/** More rows than one batch of the migration holds. */
const MANY = 450;

/**
 * Visitor keys stored in clear by earlier versions are hashed by the migration, on every
 * engine, with the digest the module now looks them up by: their visitors' events still find
 * their clicks.
 */
describeEachDatabase(await testDatabases(), (database) => {
  let url: string;
  let drop: (() => Promise<void>) | undefined;
  const now = Date.now();

  /** A fresh database with the schema the previous release left, and its rows. */
  const previousRelease = async () => {
    ({ url, drop } = await database.create());
    const before = new DataSource({
      ...postbackDataSourceOptions({ url }),
      migrations: [CreatePostbackTables1764000000000, DropClickIdIndex1764200000000],
      migrationsRun: false,
    });
    await before.initialize();
    await before.runMigrations();
    const click = (i: number, visitorKey: string): Click => ({
      id: `0190a000-0000-7000-8000-${String(i).padStart(12, '0')}`,
      tracker: 'net',
      clickId: `C-${i}`,
      visitorKey,
      customerId: null,
      landingPath: '/',
      subParams: null,
      firstSeenAt: now - 60_000 + i,
      lastSeenAt: now - 60_000 + i,
    });
    await before.manager.insert(Click, [
      click(1, 'sess-raw-1'),
      click(2, createHash('sha256').update(LONG_KEY).digest('hex')),
      click(3, ''),
      ...Array.from({ length: MANY }, (_, i) => click(100 + i, `sess-many-${i}`)),
    ]);
    const conversion = (id: string, visitorKey: string | null): Conversion => ({
      id,
      type: 'registration',
      reference: id,
      orderId: null,
      customerId: null,
      visitorKey,
      amount: null,
      currency: null,
      commission: null,
      commissionCurrency: null,
      tracker: null,
      clickId: null,
      attribution: 'none',
      occurredAt: now - 30_000,
      createdAt: now - 30_000,
    });
    await before.manager.insert(Conversion, [
      conversion('0190a000-0000-7000-9000-000000000001', 'sess-raw-1'),
      conversion('0190a000-0000-7000-9000-000000000002', null),
    ]);
    await before.destroy();
  };
  afterEach(async () => {
    delete process.env[VISITOR_KEY_SECRET_ENV];
    await drop?.();
    drop = undefined;
  });

  it.each([
    ['under POSTBACK_VISITOR_KEY_SECRET', SECRET],
    ['as SHA-256 without a secret', undefined],
  ])('hashes the stored keys %s, and the visitors are found again', async (_, secret) => {
    await previousRelease();
    if (secret) process.env[VISITOR_KEY_SECRET_ENV] = secret;
    // The app's DataSource runs the pending migration at start-up.
    const app = await startShopApp({
      databaseUrl: url,
      options: {
        trackers: [
          {
            name: 'net',
            clickParams: ['cid'],
            postback: { url: 'https://t.example/?c={click_id}' },
          },
        ],
        capture: { visitorKeySecret: secret },
        outbox: { enabled: false },
      },
    });
    try {
      const db = app.get(PostbackDatabase);
      const clicks = new Map(
        (await db.run((m) => m.find(Click))).map((c) => [c.clickId, c.visitorKey]),
      );
      expect(clicks.get('C-1')).toBe(visitorKeyDigest('sess-raw-1', secret));
      expect(clicks.get('C-2')).toBe(visitorKeyDigest(LONG_KEY, secret));
      expect(clicks.get('C-3')).toBe('');
      for (let i = 0; i < MANY; i++) {
        expect(clicks.get(`C-${100 + i}`)).toBe(visitorKeyDigest(`sess-many-${i}`, secret));
      }
      const conversions = await db.run((m) => m.find(Conversion, { order: { id: 'ASC' } }));
      expect(conversions.map((c) => c.visitorKey)).toEqual([
        visitorKeyDigest('sess-raw-1', secret),
        null,
      ]);

      const record = app.get(ConversionService);
      const purchase = (orderId: string, sessionKey: string) =>
        record.record({ type: 'purchase', orderId, amount: '1.00', currency: 'EUR', sessionKey });
      expect(await purchase('O-1', 'sess-raw-1')).toMatchObject({ attribution: 'session' });
      expect(await purchase('O-2', LONG_KEY)).toMatchObject({ attribution: 'session' });
      expect(await purchase('O-3', `sess-many-${MANY - 1}`)).toMatchObject({
        attribution: 'session',
      });
      const credited = await db.run((m) => m.find(Conversion, { where: { type: 'purchase' } }));
      expect(new Map(credited.map((c) => [c.orderId, c.clickId]))).toEqual(
        new Map([
          ['O-1', 'C-1'],
          ['O-2', 'C-2'],
          ['O-3', `C-${100 + MANY - 1}`],
        ]),
      );
    } finally {
      await app.close();
    }
  });
});
