import { createHash } from 'node:crypto';

import { Test } from '@nestjs/testing';
import { DataSource } from 'typeorm';

import { Click, Conversion, ConversionService } from '../../src/index.js';
import { visitorKeyDigest, visitorKeyFingerprint } from '../../src/click/visitor-key.js';
import { VISITOR_KEY_SECRET_ENV } from '../../src/postback.constants.js';
import { VisitorKeyMismatchError } from '../../src/errors/visitor-key-mismatch.error.js';
import { postbackDataSourceOptions } from '../../src/postback.data-source.js';
import { CreatePostbackTables1764000000000 } from '../../src/database/migrations/1764000000000-CreatePostbackTables.js';
import { DropClickIdIndex1764200000000 } from '../../src/database/migrations/1764200000000-DropClickIdIndex.js';
import { PostbackDatabase } from '../../src/database/postback-database.js';
import { escapeQueryWithParameters } from '../../src/database/typeorm-compat.js';
import { type ShopAppSettings, shopAppModule, startShopApp } from '../fixtures/shop-app.js';
import { describeEachDatabase, testDatabases } from '../utils/test-databases.js';
import { initError } from '../utils/init-error.js';

const SECRET = 'visitor-key-secret-0123456789';
const OTHER_SECRET = 'another-visitor-key-secret-987';
/** Longer than the column: earlier versions stored its SHA-256 instead. */
const LONG_KEY = `signed-cookie.${'x'.repeat(200)}`;
/** More rows than one batch of the migration holds. */
const MANY = 450;

const settings = (url: string, visitorKeySecret: string | undefined): ShopAppSettings => ({
  databaseUrl: url,
  options: {
    trackers: [
      { name: 'net', clickParams: ['cid'], postback: { url: 'https://t.example/?c={click_id}' } },
    ],
    capture: { visitorKeySecret },
    outbox: { enabled: false },
  },
});

/** What starting the shop app comes to: its error, else undefined (the app closed again). */
async function startError(url: string, secret: string | undefined): Promise<unknown> {
  const moduleRef = await Test.createTestingModule({
    imports: [shopAppModule(settings(url, secret))],
  }).compile();
  return initError(moduleRef.createNestApplication({ logger: false }));
}

/**
 * Visitor keys stored in clear by earlier versions are hashed at the module's first start, on
 * every engine, with the module's own secret, into the digest it now looks them up by: their
 * visitors' events still find their clicks, wherever the migrations ran. A later start with
 * another secret is refused, never left to miss every stored visitor.
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
    await drop?.();
    drop = undefined;
  });

  it.each([
    ['under capture.visitorKeySecret', SECRET],
    ['as SHA-256 without a secret', undefined],
  ])('hashes the stored keys %s, and the visitors are found again', async (_, secret) => {
    await previousRelease();
    // As a host filling the option from its own configuration does: the variable is not set
    // where the migrations run.
    expect(process.env[VISITOR_KEY_SECRET_ENV]).toBeUndefined();
    // The app's DataSource runs the pending migration at start-up.
    const app = await startShopApp(settings(url, secret));
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

  it('takes up a pass cut short: keys already hashed are not hashed again', async () => {
    await previousRelease();
    // What a start killed part-way leaves: the key claimed, some batches hashed, not all.
    const migrated = new DataSource({ ...postbackDataSourceOptions({ url }) });
    await migrated.initialize();
    const [insert, values] = escapeQueryWithParameters(
      migrated.driver,
      'INSERT INTO postback_meta (name, value) VALUES (:name, :value)',
      { name: 'visitor_key_hash', value: `v1:${visitorKeyFingerprint(SECRET)}` },
    );
    await migrated.query(insert, values);
    const halfway = await migrated.manager.find(Click, { order: { id: 'ASC' }, take: 250 });
    for (const click of halfway.filter((c) => c.visitorKey !== '')) {
      const key = click.clickId === 'C-2' ? LONG_KEY : keyOf(click.clickId);
      await migrated.manager.update(
        Click,
        { id: click.id },
        { visitorKey: visitorKeyDigest(key, SECRET) },
      );
    }
    await migrated.destroy();

    for (let start = 0; start < 2; start++) {
      const app = await startShopApp(settings(url, SECRET));
      try {
        const clicks = await app.get(PostbackDatabase).run((m) => m.find(Click));
        for (const click of clicks) {
          if (click.clickId === 'C-3') continue;
          const key = click.clickId === 'C-2' ? LONG_KEY : keyOf(click.clickId);
          expect([click.clickId, click.visitorKey]).toEqual([
            click.clickId,
            visitorKeyDigest(key, SECRET),
          ]);
        }
        const result = await app.get(ConversionService).record({
          type: 'purchase',
          orderId: `O-${start}`,
          amount: '1.00',
          currency: 'EUR',
          sessionKey: 'sess-many-0',
        });
        expect(result).toMatchObject({ attribution: 'session' });
      } finally {
        await app.close();
      }
    }
  });

  it('refuses to start with another secret than the stored keys were hashed with', async () => {
    await previousRelease();
    await (await startShopApp(settings(url, SECRET))).close();
    for (const secret of [OTHER_SECRET, undefined]) {
      const error = await startError(url, secret);
      expect(error).toBeInstanceOf(VisitorKeyMismatchError);
      expect(String(error)).toMatch(/capture\.visitorKeySecret[\s\S]*DELETE FROM postback_meta/);
    }

    // The documented way to change it on purpose: the earlier visitors are given up.
    const dataSource = new DataSource({ ...postbackDataSourceOptions({ url }) });
    await dataSource.initialize();
    await dataSource.query("DELETE FROM postback_meta WHERE name = 'visitor_key_hash'");
    await dataSource.destroy();
    expect(await startError(url, OTHER_SECRET)).toBeUndefined();
    expect(await startError(url, SECRET)).toBeInstanceOf(VisitorKeyMismatchError);
  });
});

/** The clear key `previousRelease` gave the click of this click ID. */
function keyOf(clickId: string): string {
  return clickId === 'C-1' ? 'sess-raw-1' : `sess-many-${Number(clickId.slice(2)) - 100}`;
}
