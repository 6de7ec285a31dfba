import { existsSync, readFileSync } from 'node:fs';

import { Logger } from '@nestjs/common';
import { jest } from '@jest/globals';
import request from 'supertest';

import { ConversionService, DeliveryAttempt, OutboxFlusher, Postback } from '../src/index.js';
import { PostbackDatabase } from '../src/database/postback-database.js';
import { FakeTracker } from '../src/testing/index.js';
import { useShop } from './fixtures/shop-app.js';
import { FAST_OUTBOX, startAgent, type TestAgent } from './utils/agent.js';
import { tempDir } from './utils/sqlite.js';
import { eventually } from './utils/wait.js';

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
      await shop.app.get(ConversionService).record({
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

/**
 * A receiver that echoes the token back in each form it could take, through the agent: the
 * database file (its WAL included), `GET /v1/postbacks` and the logs must hold none of them,
 * not even the part before an excerpt's cut.
 */
describe('a token echoed in any encoding is kept nowhere', () => {
  const SECRET = 'K9xQ tok/+=&é"<Mz7Vb3wTR';
  const API_KEY = 'test-api-key-0123456789abcdef';
  const EXCERPT = 64;
  const units = (format: (unit: number) => string) =>
    Array.from({ length: SECRET.length }, (_, i) => format(SECRET.charCodeAt(i))).join('');
  const bytes = (format: (byte: number) => string) =>
    Array.from(Buffer.from(SECRET, 'utf8'), format).join('');
  const FORMS = [
    SECRET,
    encodeURIComponent(SECRET),
    encodeURIComponent(SECRET).toLowerCase(),
    bytes((b) => `%${b.toString(16).padStart(2, '0')}`),
    new URLSearchParams({ s: SECRET }).toString().slice(2),
    JSON.stringify(SECRET).slice(1, -1).replace(/\//g, '\\/'),
    units((u) => `\\u${u.toString(16).padStart(4, '0')}`),
    units((u) => `&#${u};`),
    units((u) => `&#x${u.toString(16).toUpperCase()};`),
    SECRET.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;'),
  ];
  let tracker: FakeTracker;
  let agent: TestAgent;
  let dir: ReturnType<typeof tempDir>;

  beforeEach(async () => {
    tracker = await new FakeTracker().start();
    dir = tempDir();
    agent = await startAgent({
      databaseUrl: `sqlite:${dir.path}/agent.sqlite`,
      trackers: [
        {
          name: 'net',
          clickParams: ['cid'],
          postback: { url: `${tracker.url()}?cid={click_id}` },
          signing: { type: 'token', param: 'security_token', secret: SECRET },
          retry: { maxAttempts: 1 },
        },
      ],
      // Every answer is a 500: no circuit breaker pausing the tracker half-way.
      outbox: {
        ...FAST_OUTBOX,
        responseExcerptBytes: EXCERPT,
        circuitBreaker: { failureThreshold: 1000 },
      },
      apiKey: API_KEY,
    });
  });

  afterEach(async () => {
    await agent.app.close();
    await tracker.stop();
    dir.remove();
  });

  it('in the database file and its WAL, the API and the logs', async () => {
    const logged: string[] = [];
    const spies = (['log', 'warn', 'error', 'debug'] as const).map((level) =>
      jest.spyOn(Logger.prototype, level).mockImplementation((...args: unknown[]) => {
        logged.push(args.map(String).join(' '));
      }),
    );
    try {
      // Each form whole, and each cut by the excerpt 17 characters into it.
      for (const form of FORMS) {
        tracker.respondWith(
          { status: 500, body: `you sent ${form}; ${'x'.repeat(EXCERPT)}` },
          { status: 500, body: `${'x'.repeat(EXCERPT - 17)}${form} and the rest` },
        );
      }
      const events = FORMS.length * 2;
      for (let i = 0; i < events; i++) {
        await request(agent.server as never)
          .post('/v1/events')
          .set('authorization', `Bearer ${API_KEY}`)
          .send({
            type: 'purchase',
            orderId: `O-${i}`,
            amount: '5.00',
            currency: 'EUR',
            clickId: `c${i}`,
          })
          .expect(202);
      }
      await eventually(
        async () => (await agent.db.run((m) => m.count(DeliveryAttempt))) === events,
        10_000,
        'every attempt',
      );
      const api = await request(agent.server as never)
        .get('/v1/postbacks?state=dead')
        .set('authorization', `Bearer ${API_KEY}`)
        .expect(200);
      expect(api.body.postbacks).toHaveLength(events);
      // The token did go out; the excerpts are there, with the token replaced.
      expect(tracker.received[0].url).toContain(`security_token=${encodeURIComponent(SECRET)}`);
      const excerpts = JSON.stringify(api.body).match(/\[redacted\]/g) ?? [];
      expect(excerpts.length).toBeGreaterThanOrEqual(events);

      const file = (suffix: string) => {
        const path = `${dir.path}/agent.sqlite${suffix}`;
        return existsSync(path) ? readFileSync(path).toString('utf8') : '';
      };
      const places = {
        database: file(''),
        wal: file('-wal'),
        api: JSON.stringify(api.body),
        logs: logged.join('\n'),
      };
      expect(places.wal.length).toBeGreaterThan(0);
      for (const [place, text] of Object.entries(places)) {
        for (const form of FORMS) {
          // Any ten characters in a row of any form: a part kept is a leak too.
          for (let at = 0; at + 10 <= form.length; at++) {
            const piece = form.slice(at, at + 10);
            if (text.includes(piece)) throw new Error(`${place} holds ${JSON.stringify(piece)}`);
          }
        }
      }
    } finally {
      spies.forEach((spy) => spy.mockRestore());
    }
  }, 30_000);
});
