import { DataSource } from 'typeorm';

import { ClickService, Conversion, ConversionService } from '../src/index.js';
import { PostbackDatabase } from '../src/database/postback-database.js';
import { useShop } from './fixtures/shop-app.js';
import { testTracker } from './utils/agent.js';

/**
 * The cost of record() on SQLite is its statements: each one a round trip through TypeORM,
 * each new SQL text a fresh prepare. These pin the hot path down.
 */
describe('record() on SQLite: statements per event', () => {
  const shop = useShop((trackerUrl, databaseUrl) => ({
    databaseUrl,
    // No flusher: only record()'s own statements are counted.
    options: { trackers: [testTracker(trackerUrl)], outbox: { enabled: false } },
  }));

  /** Every SQL text the (single) SQLite connection runs from now on. */
  function recordStatements(): string[] {
    const runner = shop.app.get(DataSource).driver.createQueryRunner('master');
    const texts: string[] = [];
    const query = runner.query.bind(runner);
    runner.query = ((sql: string, ...rest: unknown[]) => {
      texts.push(sql);
      return (query as (...args: unknown[]) => Promise<unknown>)(sql, ...rest);
    }) as typeof runner.query;
    return texts;
  }

  const purchase = (n: number) => ({
    type: 'purchase',
    orderId: `O-${n}`,
    amount: '19.99',
    currency: 'EUR',
    clickId: `click-${n}`,
    occurredAt: new Date(Date.UTC(2026, 10, 25, 10, 0, n)).toISOString(),
  });

  it('records an attributed purchase in five statements whose text never changes', async () => {
    const conversions = shop.app.get(ConversionService);
    await conversions.record(purchase(0)); // the first event prepares its statements
    const texts = recordStatements();
    for (let n = 1; n <= 5; n++) {
      // One at a time: a lone event commits alone, BEGIN and COMMIT included.
      const result = await conversions.record(purchase(n));
      expect(result).toMatchObject({ attributed: true, queued: true, duplicate: false });
    }
    // BEGIN, the click look-up, the conversion, its outbox row, COMMIT.
    expect(texts).toHaveLength(5 * 5);
    // Numbers (times) are bound, not inlined: the five events ran the same five texts, so
    // better-sqlite3 prepared each once.
    expect(new Set(texts).size).toBe(5);
  });

  it('links a customer only when there is something to link', async () => {
    const conversions = shop.app.get(ConversionService);
    await shop.app
      .get(ClickService)
      .capture({ tracker: 'network', clickId: 'c-1', customerId: 'K' });
    const texts = recordStatements();
    await conversions.record({ ...purchase(1), clickId: 'c-1', customerId: 'K' });
    expect(texts.filter((t) => /^UPDATE/i.test(t))).toEqual([]);
    await conversions.record({ ...purchase(2), clickId: 'c-2', customerId: 'K', sessionKey: 's' });
    expect(texts.filter((t) => /^UPDATE/i.test(t))).toHaveLength(1);
  });

  it('answers a repeat with the first result even when its attribution would now be refused', async () => {
    const conversions = shop.app.get(ConversionService);
    const first = await conversions.record(purchase(1));
    // Same order again, naming a tracker that is not configured: a fresh event is refused for
    // that, but this is a repeat, and a repeat gets the first answer.
    const again = await conversions.record({ ...purchase(1), tracker: 'ghost' });
    expect(again).toEqual({ ...first, duplicate: true });
    await expect(conversions.record({ ...purchase(2), tracker: 'ghost' })).rejects.toMatchObject({
      name: 'InvalidInputError',
    });
    const db = shop.app.get(PostbackDatabase);
    expect(await db.run((m) => m.count(Conversion))).toBe(1);
  });
});
