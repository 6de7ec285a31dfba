import type { INestApplication } from '@nestjs/common';
import request from 'supertest';

import { Postback, type TrackerOptions } from '../src/index.js';
import { PostbackDatabase } from '../src/database/postback-database.js';
import { generateHmacSecret } from '../src/postback/hmac-secret.js';
import { startShopApp } from './fixtures/shop-app.js';
import { tempDir } from './utils/sqlite.js';
import { VerifyingReceiver, type VerifyingReceiverOptions } from './utils/verifying-receiver.js';
import { eventually } from './utils/wait.js';

// Everything a click ID could hold that would break a naively built body.
const HOSTILE_CLICK_ID = 'a&b=c#d e+f%20?x=/é😀"\\';

/**
 * Real postbacks, through the module's outbox, to a receiver that verifies them with the
 * official `standardwebhooks` and `svix` libraries in their default configuration.
 */
describe('HMAC-signed POSTs verify with the official Standard Webhooks libraries', () => {
  let receiver: VerifyingReceiver;
  let app: INestApplication;
  let dir: ReturnType<typeof tempDir>;

  async function start(
    receiverOptions: VerifyingReceiverOptions,
    signing: TrackerOptions['signing'],
    format?: 'form' | 'json',
  ): Promise<void> {
    receiver = await new VerifyingReceiver(receiverOptions).start();
    dir = tempDir();
    app = await startShopApp({
      databaseUrl: `sqlite:${dir.path}/shop.sqlite`,
      options: {
        trackers: [
          {
            name: 'network',
            clickParams: ['cid'],
            postback: {
              url: receiver.url(),
              method: 'POST',
              ...(format && { format }),
              body: { click_id: '{click_id}', payout: '{payout}', order_id: '{order_id}' },
            },
            commission: { purchase: { percent: '7.5' } },
            signing,
          },
        ],
        outbox: { flushIntervalMs: 60_000, retry: { maxAttempts: 1 } },
      },
    });
  }

  afterEach(async () => {
    await app?.close();
    await receiver?.stop();
    dir?.remove();
  });

  /** A click, then a purchase in the same session; resolves with the delivered postback. */
  async function purchase(orderId: string): Promise<Postback> {
    const visitor = request.agent(app.getHttpServer());
    await visitor.get('/landing').query({ cid: HOSTILE_CLICK_ID }).expect(200);
    await visitor.post('/checkout').send({ orderId, amount: '59.97', currency: 'EUR' }).expect(200);
    const db = app.get(PostbackDatabase);
    const settled = await eventually(
      () =>
        db.run((m) => m.findOne(Postback, { where: [{ state: 'delivered' }, { state: 'dead' }] })),
      5_000,
      'the postback to be delivered or dead',
    );
    return settled!;
  }

  const expectedPayload = { click_id: HOSTILE_CLICK_ID, payout: '4.50', order_id: 'ORDER-1' };

  it('with one secret, as JSON by default', async () => {
    const secret = generateHmacSecret();
    await start({ secrets: [secret] }, { type: 'hmac', secret });

    const postback = await purchase('ORDER-1');

    expect(receiver.received).toHaveLength(1);
    const [{ headers, verdicts }] = receiver.received;
    expect(headers['content-type']).toBe('application/json');
    expect(verdicts).toEqual([
      {
        secret,
        standardwebhooks: { ok: true, payload: expectedPayload },
        svix: { ok: true, payload: expectedPayload },
      },
    ]);
    expect(postback).toMatchObject({ state: 'delivered', lastStatus: 204 });
  });

  it('during a key rotation, for a receiver holding either secret', async () => {
    const [oldSecret, newSecret] = [generateHmacSecret(), generateHmacSecret()];
    await start(
      { secrets: [oldSecret, newSecret] },
      { type: 'hmac', secret: [oldSecret, newSecret] },
    );

    const postback = await purchase('ORDER-1');

    const [{ headers, verdicts }] = receiver.received;
    expect(String(headers['webhook-signature']).split(' ')).toHaveLength(2);
    for (const secret of [oldSecret, newSecret]) {
      expect(verdicts).toContainEqual({
        secret,
        standardwebhooks: { ok: true, payload: expectedPayload },
        svix: { ok: true, payload: expectedPayload },
      });
    }
    expect(postback.state).toBe('delivered');
  });

  it('refused by both for a receiver holding another secret', async () => {
    const [secret, other] = [generateHmacSecret(), generateHmacSecret()];
    await start({ secrets: [other] }, { type: 'hmac', secret });

    const postback = await purchase('ORDER-1');

    const noMatch = { ok: false, error: 'WebhookVerificationError: No matching signature found' };
    expect(receiver.received[0].verdicts).toEqual([
      { secret: other, standardwebhooks: noMatch, svix: noMatch },
    ]);
    expect(postback).toMatchObject({ state: 'dead', lastStatus: 401 });
  });

  // A form body is signed as correctly, but svix's verify parses every payload as JSON: the
  // documented way is standardwebhooks with jsonParse: false (docs/verifying-postbacks.md).
  it('as a form body when asked, with standardwebhooks and jsonParse: false', async () => {
    const secret = generateHmacSecret();
    await start(
      { secrets: [secret], jsonParse: false, require: ['standardwebhooks'] },
      { type: 'hmac', secret },
      'form',
    );

    const postback = await purchase('ORDER-1');

    const [{ body, headers, verdicts }] = receiver.received;
    expect(headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(Object.fromEntries(new URLSearchParams(body))).toEqual(expectedPayload);
    expect(verdicts[0].standardwebhooks).toEqual({ ok: true, payload: undefined });
    expect(verdicts[0].svix).toEqual({
      ok: false,
      error: expect.stringMatching(/^SyntaxError: /),
    });
    expect(postback.state).toBe('delivered');
  });
});
