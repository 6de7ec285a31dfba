import request from 'supertest';

import { FakeTracker } from '../src/demo/fake-tracker.js';
import type { TrackerOptions } from '../src/index.js';
import { startAgent, type TestAgent } from './utils/agent.js';
import { eventually, tempDir } from './utils/sqlite.js';

const ADMIN_KEY = 'admin-key-0123456789abcdef';

describe('several networks in one shop', () => {
  let networks: Record<string, FakeTracker>;
  let agent: TestAgent;
  let dir: ReturnType<typeof tempDir>;

  beforeEach(async () => {
    networks = {
      voluum: await new FakeTracker().start(),
      everflow: await new FakeTracker().start(),
      awin: await new FakeTracker().start(),
    };
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
      },
      // Lands as awc, goes back as cks: the postback names the field its own way.
      {
        name: 'awin',
        clickParams: ['awc'],
        postback: { url: `${networks.awin.url()}?cks={click_id}&ref={order_id}` },
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
    await new Promise((resolve) => setTimeout(resolve, 200));
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
