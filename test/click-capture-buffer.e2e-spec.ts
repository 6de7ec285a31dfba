import type { INestApplication } from '@nestjs/common';
import Database from 'better-sqlite3';
import request from 'supertest';

import { ConversionService, type PostbackModuleOptions } from '../src/index.js';
import { ClickWriteBuffer } from '../src/click/click-write-buffer.js';
import { startShopApp } from './fixtures/shop-app.js';
import { tempDir } from './utils/sqlite.js';

const TRACKER = {
  name: 'net',
  clickParams: ['cid'],
  postback: { url: 'http://127.0.0.1:9/pb?c={click_id}' },
  events: ['purchase'],
  commission: { purchase: { percent: '10' } },
};

/**
 * The shop as a merchant runs it, with click writes buffered far longer than the test takes:
 * only shutdown, or a conversion, can bring the clicks into the database.
 */
describe('buffered click capture', () => {
  let dir: ReturnType<typeof tempDir>;
  let app: INestApplication | undefined;
  const file = () => `${dir.path}/shop.sqlite`;
  const storedClickIds = () => {
    const db = new Database(file(), { readonly: true });
    try {
      const rows = db.prepare('SELECT click_id FROM postback_clicks ORDER BY click_id').all();
      return (rows as { click_id: string }[]).map((r) => r.click_id);
    } finally {
      db.close();
    }
  };
  const start = async (capture: PostbackModuleOptions['capture']) => {
    app = await startShopApp({
      databaseUrl: `sqlite:${file()}`,
      options: { trackers: [TRACKER], capture, outbox: { enabled: false } },
    });
    return app;
  };

  beforeEach(() => (dir = tempDir()));
  afterEach(async () => {
    await app?.close();
    app = undefined;
    dir.remove();
  });

  it('writes the clicks still in the buffer when the application shuts down', async () => {
    const shop = await start({ bufferMs: 60_000 });
    const ids = Array.from({ length: 25 }, (_, i) => `shutdown-${String(i).padStart(2, '0')}`);
    for (const cid of ids) {
      await request(shop.getHttpServer()).get('/landing').query({ cid }).expect(200, 'welcome');
    }
    expect(shop.get(ClickWriteBuffer).pending).toBe(25);
    await shop.close();
    app = undefined;
    // Read after close: the SQLite file is the process's own while the app runs.
    expect(storedClickIds()).toEqual(ids);
  });

  it('attributes a conversion by visitor key to a landing still in the buffer', async () => {
    const shop = await start({
      bufferMs: 60_000,
      // No server sessions: visitors are keyed by a first-party cookie the shop sets.
      visitorKey: (req) => req.header('x-visitor'),
    });
    await request(shop.getHttpServer())
      .get('/landing')
      .set('x-visitor', 'visitor-1')
      .query({ cid: 'just-now' })
      .expect(200);
    expect(shop.get(ClickWriteBuffer).pending).toBe(1);
    const result = await shop.get(ConversionService).record({
      type: 'purchase',
      orderId: 'O-1',
      amount: '20.00',
      currency: 'EUR',
      sessionKey: 'visitor-1',
    });
    expect(result).toMatchObject({ attributed: true, attribution: 'session', tracker: 'net' });
    expect(shop.get(ClickWriteBuffer).pending).toBe(0);
  });
});
