import { randomUUID } from 'node:crypto';

import { ConversionService, Postback } from '../src/index.js';
import { Conversion } from '../src/conversion/conversion.entity.js';
import { PostbackDatabase } from '../src/database/postback-database.js';
import { useShop } from './fixtures/shop-app.js';
import { testTracker } from './utils/agent.js';

// HRK left ISO 4217 in 2023; an order an earlier version accepted in it can still be refunded.
describe('refunding an order accepted earlier in a withdrawn currency', () => {
  const shop = useShop((trackerUrl, databaseUrl) => ({
    databaseUrl,
    options: {
      trackers: [
        testTracker(trackerUrl, {
          postback: { url: `${trackerUrl}?cid={click_id}&et={event_type}&amount={amount}` },
          reversals: true,
        }),
      ],
      outbox: { enabled: false },
    },
  }));

  it('reverses it in full, in the units it was stored with', async () => {
    const db = shop.app.get(PostbackDatabase);
    const now = Date.now();
    const id = randomUUID();
    await db.run((m) =>
      m.insert(Conversion, {
        id,
        type: 'purchase',
        reference: 'OLD-HRK-1',
        orderId: 'OLD-HRK-1',
        customerId: null,
        visitorKey: null,
        amount: '100.00',
        currency: 'HRK',
        commission: '7.50',
        commissionCurrency: 'HRK',
        tracker: 'network',
        clickId: 'c-old',
        attribution: 'click_id',
        occurredAt: now - 1000,
        createdAt: now - 1000,
      }),
    );
    await db.run((m) =>
      m.insert(Postback, {
        id: randomUUID(),
        conversionId: id,
        tracker: 'network',
        state: 'delivered',
        fields: { clickId: 'c-old', eventType: 'purchase', conversionId: id, occurredAt: now },
        attempts: 1,
        lostClaims: 0,
        sendingAt: null,
        nextAttemptAt: now,
        afterPostbackId: null,
        leaseOwner: null,
        claimToken: null,
        lastStatus: 200,
        lastError: null,
        deliveredAt: now,
        createdAt: now,
        updatedAt: now,
      }),
    );

    const { postbackId } = await shop.app
      .get(ConversionService)
      .record({ type: 'refund', orderId: 'OLD-HRK-1' });
    const postback = await db.run((m) => m.findOneByOrFail(Postback, { id: postbackId as string }));
    expect(postback.fields).toMatchObject({
      amount: '100.00',
      currency: 'HRK',
      payout: '7.50',
      payoutCurrency: 'HRK',
    });
  });
});
