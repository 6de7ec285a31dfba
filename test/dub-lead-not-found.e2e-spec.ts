import { ConversionService, OutboxAdminService, OutboxFlusher, Postback } from '../src/index.js';
import { PostbackDatabase } from '../src/database/postback-database.js';
import { useShop } from './fixtures/shop-app.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const LEAD_NOT_FOUND = {
  status: 404,
  body: JSON.stringify({
    error: { code: 'not_found', message: 'Lead event not found for externalId: cust-1' },
  }),
};

describe('Dub\'s 404 "Lead event not found", on an injected clock', () => {
  let now = Date.UTC(2026, 10, 1);
  const shop = useShop((trackerUrl, databaseUrl) => ({
    databaseUrl,
    options: {
      trackers: [
        {
          name: 'dub',
          preset: 'dub',
          postback: { url: trackerUrl.replace('/postback', '/track/{dub_track}') },
          signing: { type: 'bearer', secret: 'dub_test_key' },
        },
      ],
      outbox: { enabled: false },
      clock: () => now,
    },
  }));

  async function sale(orderId: string): Promise<() => Promise<Postback>> {
    const { postbackId } = await shop.app.get(ConversionService).record({
      type: 'purchase',
      orderId,
      amount: '59.97',
      currency: 'EUR',
      customerId: 'cust-1',
      clickId: 'dub-click-1',
    });
    const db = shop.app.get(PostbackDatabase);
    return () => db.run((m) => m.findOneByOrFail(Postback, { id: postbackId as string }));
  }

  /** Moves the clock to the row's next attempt and flushes; the row after it. */
  async function nextAttempt(row: () => Promise<Postback>): Promise<Postback> {
    now = Math.max(now, (await row()).nextAttemptAt);
    await shop.app.get(OutboxFlusher).flush();
    return row();
  }

  it('counts the hour from the first 404, not from the sale: a backlog does not dead-letter it', async () => {
    const row = await sale('ORDER-1');
    const accepted = now;
    // Dub down for two hours: the sale's first 404 comes long after the conversion.
    shop.tracker.setDefault({ status: 503 });
    while ((await nextAttempt(row)).nextAttemptAt < accepted + 2 * HOUR);
    shop.tracker.setDefault(LEAD_NOT_FOUND);
    const afterFirst = await nextAttempt(row);
    const firstNotYet = now;
    expect(firstNotYet - accepted).toBeGreaterThanOrEqual(2 * HOUR);
    expect(afterFirst).toMatchObject({ state: 'pending', lastStatus: 404 });
    expect(afterFirst.lastError).toMatch(
      /^HTTP 404: Dub has no lead.*; retried until 60 minutes after the first such answer$/,
    );

    let current = afterFirst;
    while (current.state === 'pending') current = await nextAttempt(row);
    expect(current.state).toBe('dead');
    expect(current.lastError).toMatch(/still 60 minutes after the first such answer/);
    expect(now - firstNotYet).toBeGreaterThanOrEqual(HOUR);

    // A replay starts a new run: its first 404 is retried again, not dead at once.
    await shop.app.get(OutboxAdminService).replay({ ids: [current.id] });
    const replayed = await nextAttempt(row);
    expect(replayed).toMatchObject({ state: 'pending', attempts: 1, lastStatus: 404 });
    // …and so is its second: the first run's 404s are not this run's.
    expect(await nextAttempt(row)).toMatchObject({ state: 'pending', attempts: 2 });
  });
});
