import type { INestApplication } from '@nestjs/common';
import { Logger } from '@nestjs/common';
import { jest } from '@jest/globals';

import { ConversionService, DeliveryAttempt, OutboxFlusher, Postback } from '../src/index.js';
import { PostbackDatabase } from '../src/database/postback-database.js';
import { FakeTracker } from '../src/demo/fake-tracker.js';
import { startShopApp } from './fixtures/shop-app.js';
import { tempDir } from './utils/sqlite.js';

const TOKEN = 'TOPSECRET token/+=&1';
const encoded = encodeURIComponent(TOKEN);

describe('secrets never reach the database, the API or the logs', () => {
  let tracker: FakeTracker;
  let app: INestApplication;
  let dir: ReturnType<typeof tempDir>;

  beforeEach(async () => {
    tracker = await new FakeTracker().start();
    dir = tempDir();
    app = await startShopApp({
      databaseUrl: `sqlite:${dir.path}/secrets.sqlite`,
      options: {
        trackers: [
          {
            name: 'net',
            clickParams: ['cid'],
            postback: { url: `${tracker.url()}?cid={click_id}` },
            signing: { type: 'token', param: 'security_token', secret: TOKEN },
            retry: { maxAttempts: 1 },
          },
        ],
        outbox: { enabled: false },
      },
    });
  });
  afterEach(async () => {
    await app.close();
    await tracker.stop();
    dir.remove();
  });

  it('redacts a token echoed back in a redirect and in the response body', async () => {
    const errors: string[] = [];
    const spy = jest.spyOn(Logger.prototype, 'error').mockImplementation((message: unknown) => {
      errors.push(String(message));
    });
    try {
      tracker.setDefault({
        status: 301,
        headers: { location: `https://tracker.example/postback?cid=x&security_token=${encoded}` },
        body: `moved; you sent security_token=${encoded} (${TOKEN})`,
      });
      await app.get(ConversionService).record({ type: 'purchase', orderId: 'S-1', amount: '5.00', currency: 'EUR', clickId: 'c' });
      await app.get(OutboxFlusher).flush();
    } finally {
      spy.mockRestore();
    }

    // The token did go out, as the tracker needs it...
    expect(new URL(tracker.received[0].url, 'http://x').searchParams.get('security_token')).toBe(TOKEN);
    // ...but nothing kept afterwards holds it, in any encoding.
    const db = app.get(PostbackDatabase);
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
    expect(attempt.error).toBe('gave up after 1 attempts; last: HTTP 301 redirect to https://tracker.example/postback (never followed)');
    expect(attempt.responseExcerpt).toContain('[redacted]');
    expect(attempt.requestUrl).toContain('security_token=%5Bredacted%5D');
    expect(logged).toMatch(/is dead/);
  });
});
