import { ConversionService, DeliveryAttempt, OutboxFlusher, Postback } from '../src/index.js';
import { PostbackDatabase } from '../src/database/postback-database.js';
import { useShop } from './fixtures/shop-app.js';
import { testTracker } from './utils/agent.js';

const DAY_MS = 24 * 60 * 60 * 1000;

describe('the default retry schedule, run on an injected clock', () => {
  let now = Date.UTC(2026, 10, 1);
  const shop = useShop((trackerUrl, databaseUrl) => ({
    databaseUrl,
    options: {
      trackers: [testTracker(trackerUrl)],
      // Flushed by hand, at the times the outbox asks for; the defaults are left alone.
      outbox: { enabled: false },
      clock: () => now,
    },
  }));

  it('spreads 14 attempts over about three days, then dead-letters with the reason', async () => {
    shop.tracker.setDefault({ status: 500, body: 'boom' });
    const db = shop.app.get(PostbackDatabase);
    const flusher = shop.app.get(OutboxFlusher);
    const { postbackId } = await shop.app.get(ConversionService).record({
      type: 'purchase',
      orderId: 'LONG-1',
      amount: '10.00',
      currency: 'EUR',
      clickId: 'c-1',
    });
    const first = now;
    for (let i = 0; i < 20; i++) {
      await flusher.flush();
      const row = await db.run((m) => m.findOneByOrFail(Postback, { id: postbackId as string }));
      if (row.state === 'dead') break;
      expect(row.state).toBe('pending');
      now = row.nextAttemptAt; // jump to the next planned attempt
    }

    const row = await db.run((m) => m.findOneByOrFail(Postback, { id: postbackId as string }));
    expect(row).toMatchObject({ state: 'dead', attempts: 14, lastStatus: 500 });
    expect(row.lastError).toBe('gave up after 14 attempts; last: HTTP 500');
    expect(shop.tracker.received).toHaveLength(14);

    const attempts = await db.run((m) => m.find(DeliveryAttempt, { order: { attempt: 'ASC' } }));
    const span = attempts[13].startedAt - first;
    expect(span).toBeGreaterThan(2.3 * DAY_MS);
    expect(span).toBeLessThan(3.5 * DAY_MS);
    const gaps = attempts.slice(1).map((a, i) => a.startedAt - attempts[i].startedAt);
    expect(gaps[0]).toBeGreaterThanOrEqual(8_000); // 10 s ± 20 %
    expect(gaps[0]).toBeLessThanOrEqual(12_000);
    expect(Math.max(...gaps)).toBeLessThanOrEqual(12 * 60 * 60 * 1000 * 1.2);
  });

  it('gives a postback older than the max age one attempt after an outage, then dead-letters it', async () => {
    shop.tracker.setDefault({ status: 503 });
    const db = shop.app.get(PostbackDatabase);
    const { postbackId } = await shop.app.get(ConversionService).record({
      type: 'purchase',
      orderId: 'OUTAGE-1',
      amount: '10.00',
      currency: 'EUR',
      clickId: 'c-3',
    });
    // The agent was down for four days; the default max age is about 3.7 days.
    now += 4 * DAY_MS;
    await shop.app.get(OutboxFlusher).flush();
    const row = await db.run((m) => m.findOneByOrFail(Postback, { id: postbackId as string }));
    expect(row).toMatchObject({ state: 'dead', attempts: 1, lastStatus: 503 });
    expect(row.lastError).toMatch(
      /^past the max age: no retry later than 3\.\d days after the conversion \(retry\.maxAgeMs\); gave up after 1 attempts; last: HTTP 503$/,
    );
    expect(shop.tracker.received).toHaveLength(1);
  });

  it('reads a huge answer only up to the cap and keeps a short excerpt', async () => {
    shop.tracker.setDefault({ status: 200, body: 'x'.repeat(5 * 1024 * 1024) });
    const { postbackId } = await shop.app.get(ConversionService).record({
      type: 'purchase',
      orderId: 'BIG-1',
      amount: '10.00',
      currency: 'EUR',
      clickId: 'c-2',
    });
    await shop.app.get(OutboxFlusher).flush();
    const db = shop.app.get(PostbackDatabase);
    const [attempt] = await db.run((m) =>
      m.findBy(DeliveryAttempt, { postbackId: postbackId as string }),
    );
    expect(attempt).toMatchObject({ outcome: 'delivered', statusCode: 200 });
    expect(attempt.responseExcerpt).toBe('x'.repeat(1024));
  });
});
