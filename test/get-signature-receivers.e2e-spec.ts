import { jest } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';

import { Postback } from '../src/index.js';
import { PostbackDatabase } from '../src/database/postback-database.js';
import { generateHmacSecret } from '../src/postback/hmac-secret.js';
import { startShopApp } from './fixtures/shop-app.js';
import {
  type ExampleReceiver,
  phpUnavailable,
  type ProxiedRequest,
  RecordingProxy,
  startExampleReceiver,
} from './utils/example-receiver.js';
import { tempDir } from './utils/sqlite.js';
import { eventually } from './utils/wait.js';

// A postback is awaited for up to 10 s (see send()); the test's budget must cover that wait.
jest.setTimeout(30_000);

// Everything a click ID could hold that would break a naively built or read URL.
const HOSTILE_CLICK_ID = 'a&b=c#d e+f%20?x=/é😀';

// Outside CI a machine without php skips the PHP receiver, saying why; under CI=true it runs
// and fails with the reason (.ci/run installs php-cli).
const phpMissing = phpUnavailable();
if (phpMissing && process.env.CI !== 'true') {
  console.warn(`Skipping the PHP receiver example: ${phpMissing}`);
}
const kinds = [
  { kind: 'node' as const, skip: false },
  { kind: 'php' as const, skip: Boolean(phpMissing) && process.env.CI !== 'true' },
];

/**
 * Real GET postbacks, through the module's outbox, to the receiver examples of
 * docs/verifying-postbacks.md run as they are (`php -S`, `node`), behind a proxy that records
 * what they answered.
 */
describe.each(kinds)('the $kind receiver example', ({ kind, skip }) => {
  const describeIf = skip ? describe.skip : describe;

  describeIf('verifies GET postbacks signed by the shop', () => {
    let receiver: ExampleReceiver | undefined;
    let proxy: RecordingProxy | undefined;
    let app: INestApplication | undefined;
    let dir: ReturnType<typeof tempDir> | undefined;

    afterEach(async () => {
      await app?.close();
      await proxy?.stop();
      await receiver?.stop();
      dir?.remove();
      app = proxy = receiver = dir = undefined;
    });

    async function send(settings: {
      shopSecrets: string[];
      receiverSecrets: string[];
      covers?: 'query';
      receiverCovers?: 'query';
      behindRewritingProxy?: boolean;
    }): Promise<{ postback: Postback; answer: ProxiedRequest }> {
      if (kind === 'php' && phpMissing) throw new Error(phpMissing);
      receiver = await startExampleReceiver(
        kind,
        settings.receiverSecrets,
        settings.receiverCovers,
      );
      proxy = await new RecordingProxy(
        receiver.url(''),
        settings.behindRewritingProxy ?? false,
      ).start();
      dir = tempDir();
      app = await startShopApp({
        databaseUrl: `sqlite:${dir.path}/shop.sqlite`,
        options: {
          trackers: [
            {
              name: 'network',
              clickParams: ['cid'],
              postback: { url: `${proxy.url()}?cid={click_id}&payout={payout}&txid={order_id}` },
              commission: { purchase: { percent: '7.5' } },
              signing: {
                type: 'hmac',
                secret: settings.shopSecrets,
                ...(settings.covers && { covers: settings.covers }),
              },
            },
          ],
          outbox: { flushIntervalMs: 60_000, retry: { maxAttempts: 1 } },
        },
      });
      const visitor = request.agent(app.getHttpServer());
      await visitor.get('/landing').query({ cid: HOSTILE_CLICK_ID }).expect(200);
      await visitor
        .post('/checkout')
        .send({ orderId: 'ORDER-1', amount: '59.97', currency: 'EUR' })
        .expect(200);
      const db = app.get(PostbackDatabase);
      const postback = await eventually(
        () =>
          db.run((m) =>
            m.findOne(Postback, { where: [{ state: 'delivered' }, { state: 'dead' }] }),
          ),
        10_000,
        'the postback to be delivered or dead',
      );
      expect(proxy.passed).toHaveLength(1);
      return { postback: postback!, answer: proxy.passed[0] };
    }

    it('reads every value exactly once the signature checks out', async () => {
      const secret = generateHmacSecret();
      const { postback, answer } = await send({ shopSecrets: [secret], receiverSecrets: [secret] });

      expect(answer.status).toBe(200);
      expect(JSON.parse(answer.body)).toMatchObject({
        cid: HOSTILE_CLICK_ID,
        payout: '4.50',
        txid: 'ORDER-1',
        pb_id: postback.id,
      });
      expect(postback.state).toBe('delivered');
    });

    it('during a key rotation, holding only the new secret', async () => {
      const [oldSecret, newSecret] = [generateHmacSecret(), generateHmacSecret()];
      const { postback, answer } = await send({
        shopSecrets: [oldSecret, newSecret],
        receiverSecrets: [newSecret],
      });
      expect(answer.status).toBe(200);
      expect(postback.state).toBe('delivered');
    });

    it('refuses a postback signed with another secret', async () => {
      const { postback, answer } = await send({
        shopSecrets: [generateHmacSecret()],
        receiverSecrets: [generateHmacSecret()],
      });
      expect(answer).toMatchObject({ status: 401, body: 'invalid signature\n' });
      expect(postback).toMatchObject({ state: 'dead', lastStatus: 401 });
    });

    // nginx `proxy_pass` with a URI replaces the location's prefix and passes the path
    // decoded: the path the receiver sees is not the one that was signed.
    it('cannot verify the path behind a proxy that rewrites it', async () => {
      const secret = generateHmacSecret();
      const { postback, answer } = await send({
        shopSecrets: [secret],
        receiverSecrets: [secret],
        behindRewritingProxy: true,
      });
      expect(answer.target.startsWith('/postback?cid=')).toBe(true);
      expect(answer.status).toBe(401);
      expect(postback.state).toBe('dead');
    });

    it("verifies behind that proxy with signing.covers: 'query'", async () => {
      const secret = generateHmacSecret();
      const { postback, answer } = await send({
        shopSecrets: [secret],
        receiverSecrets: [secret],
        covers: 'query',
        receiverCovers: 'query',
        behindRewritingProxy: true,
      });
      expect(answer.target.startsWith('/postback?cid=')).toBe(true);
      expect(answer.status).toBe(200);
      expect(JSON.parse(answer.body)).toMatchObject({ cid: HOSTILE_CLICK_ID, payout: '4.50' });
      expect(postback.state).toBe('delivered');
    });
  });
});
