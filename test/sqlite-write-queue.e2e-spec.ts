import { Conversion, ConversionService, OutboxFlusher, Postback } from '../src/index.js';
import { PostbackDatabase } from '../src/database/postback-database.js';
import { useShop } from './fixtures/shop-app.js';
import { FAST_OUTBOX, testTracker } from './utils/agent.js';
import { eventually } from './utils/wait.js';

/**
 * TypeORM runs every SQLite transaction on one shared connection; calls started in the same
 * tick interleave there (a second BEGIN becomes a savepoint, one caller's rollback undoes
 * another's writes). The module queues its database work on SQLite; this proves it.
 */
describe('SQLite: concurrent events while the flusher runs', () => {
  const shop = useShop((trackerUrl, databaseUrl) => ({
    databaseUrl,
    options: { trackers: [testTracker(trackerUrl)], outbox: FAST_OUTBOX },
  }));

  it('keeps every accepted event when others fail inside their transaction', async () => {
    const conversions = shop.app.get(ConversionService);
    const flusher = shop.app.get(OutboxFlusher);
    const db = shop.app.get(PostbackDatabase);
    const valid = Array.from({ length: 100 }, (_, i) =>
      conversions.record({
        type: 'purchase',
        orderId: `OK-${i}`,
        amount: '10.00',
        currency: 'EUR',
        clickId: `click-${i}`,
      }),
    );
    // Refused after their transaction began: an unknown tracker is checked during attribution.
    const refused = Array.from({ length: 20 }, (_, i) =>
      conversions.record({
        type: 'purchase',
        orderId: `BAD-${i}`,
        amount: '1.00',
        currency: 'EUR',
        clickId: 'x',
        tracker: 'ghost',
      }),
    );
    const flushes = [flusher.flush(), flusher.flush()];
    const results = await Promise.allSettled([...valid, ...refused, ...flushes]);

    const rejected = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(rejected.map((r) => (r.reason as Error).name)).toEqual(
      Array(20).fill('InvalidInputError'),
    );
    expect(await db.run((m) => m.count(Conversion))).toBe(100);
    expect(await db.run((m) => m.count(Postback))).toBe(100);
    await eventually(
      async () => (await db.run((m) => m.countBy(Postback, { state: 'delivered' }))) === 100,
      20_000,
      '100 delivered postbacks',
    );
    expect(shop.tracker.received).toHaveLength(100);
  });
});
