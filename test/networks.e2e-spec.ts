import request from 'supertest';

import { FakeTracker } from '../src/testing/index.js';
import { type TrackerOptions } from '../src/index.js';
import { startAgent, type TestAgent } from './utils/agent.js';
import { waitForState } from './utils/agent-driver.js';
import { tempDir } from './utils/sqlite.js';
import { eventually, sleep } from './utils/wait.js';

const ADMIN_KEY = 'admin-key-0123456789abcdef';

describe('several networks in one shop', () => {
  let networks: Record<string, FakeTracker>;
  let agent: TestAgent;
  let apiNetwork: FakeTracker;
  let dir: ReturnType<typeof tempDir>;

  beforeEach(async () => {
    networks = {
      voluum: await new FakeTracker().start(),
      everflow: await new FakeTracker().start(),
      awin: await new FakeTracker().start(),
    };
    apiNetwork = await new FakeTracker().start();
    dir = tempDir();
    // The same shapes as the presets, pointed at local receivers.
    const trackers: TrackerOptions[] = [
      {
        name: 'voluum',
        clickParams: ['cid'],
        postback: { url: `${networks.voluum.url()}?cid={click_id}&txid={order_id}` },
      },
      {
        name: 'everflow',
        clickParams: ['transaction_id'],
        postback: {
          url: `${networks.everflow.url()}?transaction_id={click_id}&amount={amount}&order_id={order_id}`,
        },
        signing: { type: 'token', param: 'verification_token', secret: 'ef-secret' },
        // No currency parameter: the amount is read in the offer's currency.
        currency: 'EUR',
      },
      // Lands as awc, goes back as cks: the postback names the field its own way.
      {
        name: 'awin',
        clickParams: ['awc'],
        postback: { url: `${networks.awin.url()}?cks={click_id}&ref={order_id}` },
      },
      // Impact's shape: a form POST to an API, with HTTP Basic authentication.
      {
        name: 'impact',
        clickParams: ['irclickid'],
        postback: {
          url: `${apiNetwork.url()}/Advertisers/IRsid/Conversions`,
          method: 'POST',
          body: { ClickId: '{click_id}', OrderId: '{order_id}', ItemSubTotal1: '{amount}' },
        },
        signing: { type: 'basic', username: 'IRsid', secret: 'impact-secret' },
      },
      // Dub's shape: JSON with the amount a number in minor units, a bearer API key.
      {
        name: 'dub',
        clickParams: ['dub_id'],
        postback: {
          url: `${apiNetwork.url()}/track/sale`,
          method: 'POST',
          format: 'json',
          body: {
            clickId: '{click_id}',
            customerExternalId: '{customer_id}',
            amount: '{amount_minor}',
            currency: '{currency}',
          },
          jsonNumbers: ['amount'],
        },
        signing: { type: 'bearer', secret: 'dub_key_secret' },
      },
    ];
    agent = await startAgent({
      databaseUrl: `sqlite:${dir.path}/networks.sqlite`,
      trackers,
      adminKey: ADMIN_KEY,
    });
  });
  afterEach(async () => {
    await agent.app.close();
    for (const network of Object.values(networks)) await network.stop();
    await apiNetwork.stop();
    dir.remove();
  });

  const api = () => request(agent.server as never);

  it('sends each conversion to the network whose click it was, and only to it', async () => {
    const visits = [
      ['v-1', 'https://shop.example/?cid=VOL-CLICK'],
      ['v-2', 'https://shop.example/p?transaction_id=EF-CLICK&utm=x'],
      ['v-3', 'https://shop.example/?awc=1001_1403695822_abc'],
    ];
    for (const [session, landingUrl] of visits) {
      await api().post('/v1/clicks').send({ landingUrl, sessionKey: session }).expect(200);
    }
    for (const [i, [session]] of visits.entries()) {
      await api()
        .post('/v1/events')
        .send({
          type: 'purchase',
          orderId: `ORDER-${i}`,
          amount: '20.00',
          currency: 'EUR',
          sessionKey: session,
        })
        .expect(202);
    }
    await eventually(
      () => Object.values(networks).every((n) => n.received.length === 1),
      10_000,
      'one postback each',
    );
    await sleep(200);
    expect(networks.voluum.received.map((r) => r.url)).toEqual([
      '/postback?cid=VOL-CLICK&txid=ORDER-0',
    ]);
    expect(networks.everflow.received.map((r) => r.url)).toEqual([
      '/postback?transaction_id=EF-CLICK&amount=20.00&order_id=ORDER-1&verification_token=ef-secret',
    ]);
    expect(networks.awin.received.map((r) => r.url)).toEqual([
      '/postback?cks=1001_1403695822_abc&ref=ORDER-2',
    ]);
  });

  it('dead-letters a postback in another currency than the one the receiver reads, saying why', async () => {
    await api()
      .post('/v1/clicks')
      .send({ landingUrl: 'https://shop.example/?transaction_id=EF-USD', sessionKey: 'v-usd' })
      .expect(200);
    const { postbackId } = (
      await api()
        .post('/v1/events')
        .send({
          type: 'purchase',
          orderId: 'ORDER-USD',
          amount: '20.00',
          currency: 'USD',
          sessionKey: 'v-usd',
        })
        .expect(202)
    ).body as { postbackId: string };
    const dead = await waitForState(agent, postbackId, 'dead');
    expect(dead.lastError).toMatch(
      /cannot build the postback: the amount is 20\.00 USD, and tracker "everflow" reads every amount in EUR/,
    );
    expect(networks.everflow.received).toHaveLength(0);
  });

  it('shows what a tracker would be sent, secrets redacted', async () => {
    const sample = await api().get('/v1/trackers/everflow/sample').expect(200);
    expect(sample.body).toMatchObject({
      tracker: 'everflow',
      landingUrl: expect.stringContaining('?transaction_id='),
      postback: {
        method: 'GET',
        url: expect.stringContaining('verification_token=%5Bredacted%5D'),
      },
    });
    expect(JSON.stringify(sample.body)).not.toContain('ef-secret');
    await api().get('/v1/trackers/nope/sample').expect(404);
  });

  it('authenticates to an API network with HTTP Basic, and keeps neither secret nor credentials', async () => {
    const credentials = Buffer.from('IRsid:impact-secret').toString('base64');
    // A network that echoes the authorization back: the stored excerpt must not keep it.
    apiNetwork.setDefault({
      status: 200,
      body: `{"Status":"QUEUED","echo":"Basic ${credentials}"}`,
    });
    await api()
      .post('/v1/clicks')
      .send({ landingUrl: 'https://shop.example/?irclickid=IR-CLICK', sessionKey: 'v-ir' })
      .expect(200);
    const event = await api()
      .post('/v1/events')
      .send({
        type: 'purchase',
        orderId: 'ORDER-IR',
        amount: '20.00',
        currency: 'EUR',
        sessionKey: 'v-ir',
      })
      .expect(202);
    const [received] = await apiNetwork.waitForRequests(1);
    expect(received.method).toBe('POST');
    expect(received.url).toBe('/postback/Advertisers/IRsid/Conversions');
    expect(received.headers.authorization).toBe(`Basic ${credentials}`);
    expect(Object.fromEntries(new URLSearchParams(received.body))).toEqual({
      ClickId: 'IR-CLICK',
      OrderId: 'ORDER-IR',
      ItemSubTotal1: '20.00',
    });
    const conversion = await eventually(async () => {
      const res = await api().get(`/v1/conversions/${event.body.conversionId}`).expect(200);
      return res.body.postbacks[0]?.state === 'delivered' ? res.body : undefined;
    });
    expect(conversion.postbacks[0].attemptLog[0].responseExcerpt).toBe(
      '{"Status":"QUEUED","echo":"Basic [redacted]"}',
    );
    const sample = await api().get('/v1/trackers/impact/sample').expect(200);
    expect(sample.body.postback.headers.authorization).toBe('Basic [redacted]');
    for (const text of [JSON.stringify(conversion), JSON.stringify(sample.body)]) {
      expect(text).not.toContain('impact-secret');
      expect(text).not.toContain(credentials);
    }
  });

  it('posts typed JSON with a bearer key to an API network, from the outbox as stored', async () => {
    await api()
      .post('/v1/clicks')
      .send({ landingUrl: 'https://shop.example/?dub_id=DUB-CLICK', sessionKey: 'v-dub' })
      .expect(200);
    await api()
      .post('/v1/events')
      .send({
        type: 'purchase',
        orderId: 'ORDER-DUB',
        amount: '1437',
        currency: 'JPY',
        customerId: 'cust-9',
        sessionKey: 'v-dub',
      })
      .expect(202);
    const [received] = await apiNetwork.waitForRequests(1);
    expect(received.url).toBe('/postback/track/sale');
    expect(received.headers.authorization).toBe('Bearer dub_key_secret');
    expect(received.body).toBe(
      '{"clickId":"DUB-CLICK","customerExternalId":"cust-9","amount":1437,"currency":"JPY"}',
    );
  });

  it('sends a test postback, recorded like any other attempt', async () => {
    networks.awin.setDefault({ status: 200, body: 'test accepted' });
    await api().post('/v1/admin/trackers/awin/test').expect(401);
    const test = await api()
      .post('/v1/admin/trackers/awin/test')
      .set('authorization', `Bearer ${ADMIN_KEY}`)
      .expect(202);
    await networks.awin.waitForRequests(1);
    expect(networks.awin.received[0].url).toMatch(/^\/postback\?cks=TEST-CLICK-1&ref=TEST-/);
    const conversion = await eventually(async () => {
      const res = await api().get(`/v1/conversions/${test.body.conversionId}`).expect(200);
      return res.body.postbacks[0]?.state === 'delivered' ? res.body : undefined;
    });
    expect(conversion).toMatchObject({ type: 'test', tracker: 'awin' });
    expect(conversion.postbacks[0].attemptLog[0]).toMatchObject({
      statusCode: 200,
      responseExcerpt: 'test accepted',
    });
    await api()
      .post('/v1/admin/trackers/nope/test')
      .set('authorization', `Bearer ${ADMIN_KEY}`)
      .expect(400);
  });
});
