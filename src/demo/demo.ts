/**
 * `npm run demo`: the whole loop on this machine in a few seconds. A fake tracking service
 * listens on loopback, the agent starts on a throw-away SQLite file, a visitor lands with a
 * click ID, registers, buys from another device, and the signed postback arrives and is
 * verified, exactly as a tracking service would check it.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { INestApplication } from '@nestjs/common';

import { createAgentApp } from '../agent/agent.app.js';
import { loadAgentEnv } from '../agent/agent-env.js';
import { verifyPostbackSignature } from '../postback/postback-signature.js';
import { FakeTracker } from '../testing/index.js';

const say = (text: string) => console.log(`\n▶ ${text}`);
const show = (value: unknown) => console.log(JSON.stringify(value, null, 2));

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'postback-demo-'));
  const secret = `whsec_${randomBytes(24).toString('base64')}`;
  const apiKey = randomBytes(24).toString('hex');
  const tracker = await new FakeTracker().start();
  let app: INestApplication | undefined;
  try {
    say(`A fake tracking service listens on ${tracker.url('/postback')}`);
    const env = loadAgentEnv({
      DATABASE_URL: `sqlite:${join(dir, 'demo.sqlite')}`,
      POSTBACK_API_KEY: apiKey,
    });
    app = await createAgentApp(
      env,
      {
        trackers: [
          {
            name: 'demo-tracker',
            clickParams: ['cid'],
            subParams: ['sub1'],
            postback: {
              url: `${tracker.url('/postback')}?cid={click_id}&payout={payout}&txid={order_id}&currency={payout_currency}&sub1={sub.sub1}`,
            },
            events: ['purchase'],
            commission: { purchase: { percent: '7.5' } },
            signing: { type: 'hmac', secret },
          },
        ],
        outbox: { flushIntervalMs: 1000 },
      },
      ['error', 'warn'],
    );
    await app.listen(0, '127.0.0.1');
    const agent = await app.getUrl();
    say(`The agent listens on ${agent} (SQLite in ${dir})`);
    const call = async (method: string, path: string, body?: unknown) => {
      const response = await fetch(`${agent.replace('[::1]', '127.0.0.1')}${path}`, {
        method,
        headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return (await response.json()) as Record<string, unknown>;
    };

    const clickId = 'Cl1ck&ID=with spaces/é';
    const landingUrl = `https://shop.example/?cid=${encodeURIComponent(clickId)}&sub1=spring-sale`;
    say(`A visitor lands on ${landingUrl}; the shop forwards it (POST /v1/clicks)`);
    show(await call('POST', '/v1/clicks', { landingUrl, sessionKey: 'session-1' }));

    say('The visitor registers as customer cust-42 in the same session (POST /v1/events)');
    show(
      await call('POST', '/v1/events', {
        type: 'registration',
        customerId: 'cust-42',
        sessionKey: 'session-1',
      }),
    );

    say('Days later, on another device, cust-42 buys for 59.97 EUR (POST /v1/events)');
    const purchase = await call('POST', '/v1/events', {
      type: 'purchase',
      orderId: 'ORDER-1001',
      amount: '59.97',
      currency: 'EUR',
      customerId: 'cust-42',
    });
    show(purchase);

    const [received] = await tracker.waitForRequests(1, 10_000);
    say('The tracking service received:');
    console.log(`${received.method} ${received.url}`);
    const query = new URL(received.url, 'http://tracker').searchParams;
    console.log(`  click ID byte-identical: ${query.get('cid') === clickId}`);
    console.log(
      `  payout ${query.get('payout')} ${query.get('currency')} for order ${query.get('txid')}`,
    );
    const valid = verifyPostbackSignature({ secret, url: received.url });
    console.log(`  signature valid (verifyPostbackSignature): ${valid}`);

    await new Promise((resolve) => setTimeout(resolve, 300));
    say(`What the agent recorded (GET /v1/conversions/${purchase.conversionId})`);
    show(await call('GET', `/v1/conversions/${purchase.conversionId}`));
    if (!valid || query.get('cid') !== clickId) process.exitCode = 1;
  } finally {
    await app?.close();
    await tracker.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: Error) => {
  console.error(error);
  process.exit(1);
});
