import request from 'supertest';

import { Conversion, Postback, verifyPostbackSignature } from '../src/index.js';
import { PostbackDatabase } from '../src/database/postback-database.js';
import { useShop } from './fixtures/shop-app.js';
import { eventually, sleep } from './utils/wait.js';
import { HMAC_SECRET } from './utils/signing.js';

// Everything a click ID could hold that would break a naively built URL.
const HOSTILE_CLICK_ID = 'a&b=c#d e+f%20?x=/é😀';

describe('from click to signed postback', () => {
  const shop = useShop((trackerUrl, databaseUrl) => ({
    databaseUrl,
    options: {
      trackers: [
        {
          name: 'voluum',
          clickParams: ['cid'],
          subParams: ['sub1'],
          postback: {
            url: `${trackerUrl}?cid={click_id}&payout={payout}&txid={order_id}&currency={payout_currency}&s1={sub.sub1}`,
          },
          events: ['purchase'],
          commission: { purchase: { percent: '7.5' } },
          signing: { type: 'hmac', secret: HMAC_SECRET },
        },
      ],
      // Far beyond the test's patience: only the nudge after commit can deliver in time.
      outbox: { flushIntervalMs: 60_000 },
    },
  }));

  it('delivers one signed postback with the click ID byte-identical, from a purchase in another session', async () => {
    const landingVisitor = request.agent(shop.app.getHttpServer());
    await landingVisitor
      .get('/landing')
      .query({ cid: HOSTILE_CLICK_ID, sub1: 'banner&top' })
      .expect(200, 'welcome');
    await landingVisitor.post('/register').send({ customerId: 'cust-1' }).expect(200);

    // Cookies gone, another device: only the customer ID links the purchase to the click.
    const purchasedAt = Date.now();
    const purchase = await request(shop.app.getHttpServer())
      .post('/checkout')
      .send({ orderId: 'ORDER-1', amount: '59.97', currency: 'EUR', customerId: 'cust-1' })
      .expect(200);
    expect(purchase.body).toMatchObject({
      attributed: true,
      attribution: 'customer',
      queued: true,
    });

    const [received] = await shop.tracker.waitForRequests(1, 2_000);
    expect(received.receivedAt - purchasedAt).toBeLessThan(2_000);
    const query = new URL(received.url, 'http://x').searchParams;
    expect(query.get('cid')).toBe(HOSTILE_CLICK_ID);
    expect(query.get('payout')).toBe('4.50'); // 59.97 × 7.5 % = 4.49775, half up
    expect(query.get('txid')).toBe('ORDER-1');
    expect(query.get('currency')).toBe('EUR');
    expect(query.get('s1')).toBe('banner&top');
    expect([...query.keys()]).toEqual([
      'cid',
      'payout',
      'txid',
      'currency',
      's1',
      'pb_id',
      'pb_ts',
      'pb_sig',
    ]);
    expect(verifyPostbackSignature({ secret: HMAC_SECRET, url: received.url })).toBe(true);
    expect(
      verifyPostbackSignature({
        secret: 'whsec_b3RoZXItc2VjcmV0LWtleS1vZi0yNCtieXRlcw==',
        url: received.url,
      }),
    ).toBe(false);

    const db = shop.app.get(PostbackDatabase);
    await eventually(
      () => db.run((m) => m.findOneBy(Postback, { state: 'delivered' })),
      5_000,
      'the postback to be marked delivered',
    );
    // Only the purchase is posted; the registration is recorded all the same.
    await sleep(200);
    expect(shop.tracker.received).toHaveLength(1);
    expect(await db.run((m) => m.count(Conversion))).toBe(2);
  });
});
