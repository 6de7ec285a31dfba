import { OutboxAdminService, OutboxFlusher, Postback } from '../src/index.js';
import { PostbackDatabase } from '../src/database/postback-database.js';
import { useShop } from './fixtures/shop-app.js';

// The admin test postback is the sample purchase: a request each network accepts.
describe('the admin test postback', () => {
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
        {
          name: 'everflow',
          preset: 'everflow',
          postback: {
            url: `${trackerUrl}?transaction_id={click_id}&amount={amount}&order_id={order_id}`,
          },
          // An offer in dollars: a test in the sample's euros would be dead-lettered.
          currency: 'USD',
        },
      ],
      outbox: { enabled: false },
    },
  }));

  async function sendTest(tracker: string): Promise<Postback> {
    const { postbackId } = await shop.app.get(OutboxAdminService).sendTest(tracker);
    await shop.app.get(OutboxFlusher).flush();
    return shop.app
      .get(PostbackDatabase)
      .run((m) => m.findOneByOrFail(Postback, { id: postbackId }));
  }

  it("goes to Dub's sale route with the sample customer", async () => {
    const row = await sendTest('dub');
    expect(row).toMatchObject({ state: 'delivered', lastError: null });
    const [received] = shop.tracker.received;
    expect(received.url).toBe('/track/sale');
    expect(JSON.parse(received.body)).toMatchObject({
      customerExternalId: 'TEST-CUSTOMER-1',
      clickId: 'TEST-CLICK-1',
      currency: 'EUR',
    });
  });

  it("is in the currency the tracker reads (Everflow's offer's)", async () => {
    const row = await sendTest('everflow');
    expect(row).toMatchObject({ state: 'delivered', lastError: null });
    const sent = new URL(shop.tracker.received[0].url, 'http://x').searchParams;
    expect(sent.get('transaction_id')).toBe('TEST-CLICK-1');
    expect(sent.get('amount')).toBe('59.97');
  });
});
