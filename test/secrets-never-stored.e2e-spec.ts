import { Logger } from '@nestjs/common';
import { jest } from '@jest/globals';

import { ConversionService, DeliveryAttempt, OutboxFlusher, Postback } from '../src/index.js';
import { PostbackDatabase } from '../src/database/postback-database.js';
import { useShop } from './fixtures/shop-app.js';

const TOKEN = 'TOPSECRET token/+=&1';
const encoded = encodeURIComponent(TOKEN);

describe('secrets never reach the database, the API or the logs', () => {
  const shop = useShop((trackerUrl, databaseUrl) => ({
    databaseUrl,
    options: {
      trackers: [
        {
          name: 'net',
          clickParams: ['cid'],
          postback: { url: `${trackerUrl}?cid={click_id}` },
          signing: { type: 'token', param: 'security_token', secret: TOKEN },
          retry: { maxAttempts: 1 },
        },
      ],
      outbox: { enabled: false },
    },
  }));

  it('redacts a token echoed back in a redirect and in the response body', async () => {
    const errors: string[] = [];
    const spy = jest.spyOn(Logger.prototype, 'error').mockImplementation((message: unknown) => {
      errors.push(String(message));
    });
    try {
      shop.tracker.setDefault({
        status: 301,
        headers: { location: `https://tracker.example/postback?cid=x&security_token=${encoded}` },
        body: `moved; you sent security_token=${encoded} (${TOKEN})`,
      });
      await shop.app
        .get(ConversionService)
        .record({
          type: 'purchase',
          orderId: 'S-1',
          amount: '5.00',
          currency: 'EUR',
          clickId: 'c',
        });
      await shop.app.get(OutboxFlusher).flush();
    } finally {
      spy.mockRestore();
    }

    // The token did go out, as the tracker needs it...
    expect(
      new URL(shop.tracker.received[0].url, 'http://x').searchParams.get('security_token'),
    ).toBe(TOKEN);
    // ...but nothing kept afterwards holds it, in any encoding.
    const db = shop.app.get(PostbackDatabase);
    const stored = JSON.stringify([
      await db.run((m) => m.find(Postback)),
      await db.run((m) => m.find(DeliveryAttempt)),
    ]);
    const logged = errors.join('\n');
    for (const text of [stored, logged]) {
      expect(text).not.toContain('TOPSECRET');
      expect(text).not.toContain(encoded);
    }
    const [attempt] = await db.run((m) => m.find(DeliveryAttempt));
    expect(attempt.error).toBe(
      'gave up after 1 attempts; last: HTTP 301 redirect to https://tracker.example/postback (never followed)',
    );
    expect(attempt.responseExcerpt).toContain('[redacted]');
    expect(attempt.requestUrl).toContain('security_token=%5Bredacted%5D');
    expect(logged).toMatch(/is dead/);
  });
});
