import request from 'supertest';

import { Click, Conversion, Postback } from '../src/index.js';
import { FakeTracker } from '../src/testing/index.js';
import { startAgent, type TestAgent, testTracker } from './utils/agent.js';
import { tempDir } from './utils/sqlite.js';
import { eventually, sleep } from './utils/wait.js';

const API_KEY = 'test-api-key-0123456789abcdef';

describe('agent HTTP API', () => {
  let tracker: FakeTracker;
  let agent: TestAgent;
  let dir: ReturnType<typeof tempDir>;
  const api = () => ({
    post: (path: string) =>
      request(agent.server as never)
        .post(path)
        .set('authorization', `Bearer ${API_KEY}`),
    get: (path: string) =>
      request(agent.server as never)
        .get(path)
        .set('authorization', `Bearer ${API_KEY}`),
  });
  const count = (entity: typeof Conversion | typeof Postback) =>
    agent.db.run((m) => m.count(entity));

  beforeEach(async () => {
    tracker = await new FakeTracker().start();
    dir = tempDir();
    agent = await startAgent({
      databaseUrl: `sqlite:${dir.path}/agent.sqlite`,
      trackers: [testTracker(tracker.url())],
      apiKey: API_KEY,
    });
  });

  afterEach(async () => {
    await agent.app.close();
    await tracker.stop();
    dir.remove();
  });

  describe('authentication', () => {
    it('refuses events without the bearer key or with a wrong one, and stores nothing', async () => {
      const event = {
        type: 'purchase',
        orderId: 'O-1',
        amount: '10.00',
        currency: 'EUR',
        clickId: 'c1',
      };
      await request(agent.server as never)
        .post('/v1/events')
        .send(event)
        .expect(401);
      await request(agent.server as never)
        .post('/v1/events')
        .set('authorization', 'Bearer wrong-key-wrong-key-wrong')
        .send(event)
        .expect(401);
      expect(await count(Conversion)).toBe(0);
      await api().post('/v1/events').send(event).expect(202);
      expect(await count(Conversion)).toBe(1);
    });

    it('serves /health without a key', async () => {
      const health = await request(agent.server as never)
        .get('/health')
        .expect(200);
      expect(health.body).toMatchObject({ status: 'ok', database: 'up' });
    });
  });

  describe('POST /v1/events with bad input', () => {
    const cases: [string, Record<string, unknown>, string][] = [
      [
        'a purchase without an order ID',
        { type: 'purchase', amount: '1.00', currency: 'EUR' },
        'orderId',
      ],
      [
        'a negative amount',
        { type: 'purchase', orderId: 'O', amount: '-5.00', currency: 'EUR' },
        'amount',
      ],
      [
        'a float-drifted amount',
        { type: 'purchase', orderId: 'O', amount: 0.30000000000000004, currency: 'EUR' },
        'amount',
      ],
      [
        'more decimals than the currency has',
        { type: 'purchase', orderId: 'O', amount: '1.5', currency: 'JPY' },
        'amount',
      ],
      [
        'an unknown currency',
        { type: 'purchase', orderId: 'O', amount: '1.00', currency: 'EURO' },
        'currency',
      ],
      [
        '10 KB of junk as order ID',
        { type: 'purchase', orderId: 'x'.repeat(10_240), amount: '1.00', currency: 'EUR' },
        'orderId',
      ],
      [
        'a control character in the order ID',
        { type: 'purchase', orderId: 'O\u0000-1', amount: '1.00', currency: 'EUR' },
        'orderId',
      ],
      ['a registration without a customer', { type: 'registration' }, 'customerId'],
      [
        'an unknown field (typo)',
        { type: 'purchase', order_id: 'O', amount: '1.00', currency: 'EUR' },
        'order_id',
      ],
      ['a bad event type', { type: 'Purchase!', orderId: 'O' }, 'type'],
      [
        'an invalid date',
        {
          type: 'purchase',
          orderId: 'O',
          amount: '1.00',
          currency: 'EUR',
          occurredAt: 'yesterday',
        },
        'occurredAt',
      ],
      [
        'a time without a zone',
        {
          type: 'purchase',
          orderId: 'O',
          amount: '1.00',
          currency: 'EUR',
          occurredAt: '2026-11-25T10:00:00',
        },
        'occurredAt',
      ],
    ];
    it.each(cases)(
      'answers 400 naming the field for %s, and writes no row',
      async (_name, body, field) => {
        const response = await api().post('/v1/events').send(body).expect(400);
        expect(response.body.fields[field]?.length).toBeGreaterThan(0);
        expect(response.body.message.length).toBeGreaterThan(0);
        expect(await count(Conversion)).toBe(0);
        expect(await count(Postback)).toBe(0);
      },
    );

    it('answers 400 to malformed JSON and 413 to an oversized body, writing nothing', async () => {
      await api()
        .post('/v1/events')
        .set('content-type', 'application/json')
        .send('{"type": "purchase",')
        .expect(400);
      await api()
        .post('/v1/events')
        .send({
          type: 'purchase',
          orderId: 'O',
          amount: '1.00',
          currency: 'EUR',
          note: 'x'.repeat(200_000),
        })
        .expect(413);
      expect(await count(Conversion)).toBe(0);
    });

    it('refuses a click ID the tracker cannot accept', async () => {
      const response = await api()
        .post('/v1/events')
        .send({
          type: 'purchase',
          orderId: 'O',
          amount: '1.00',
          currency: 'EUR',
          clickId: 'x'.repeat(300),
        })
        .expect(400);
      expect(response.body.fields.clickId[0]).toMatch(/at most 255/);
      expect(await count(Conversion)).toBe(0);
    });
  });

  describe('idempotency', () => {
    const purchase = {
      type: 'purchase',
      orderId: 'ORDER-7',
      amount: '20.00',
      currency: 'EUR',
      clickId: 'click-7',
    };

    it('answers a repeated order with the first conversion and sends one postback', async () => {
      const first = await api().post('/v1/events').send(purchase).expect(202);
      const second = await api().post('/v1/events').send(purchase).expect(202);
      expect(first.body).toMatchObject({ duplicate: false, queued: true, attributed: true });
      expect(second.body).toMatchObject({ duplicate: true, conversionId: first.body.conversionId });
      await tracker.waitForRequests(1);
      await sleep(300);
      expect(tracker.received).toHaveLength(1);
    });

    it('turns ten concurrent reports of one order into one conversion and one postback', async () => {
      const responses = await Promise.all(
        Array.from({ length: 10 }, () => api().post('/v1/events').send(purchase)),
      );
      expect(responses.map((r) => r.status)).toEqual(Array(10).fill(202));
      expect(responses.filter((r) => !r.body.duplicate)).toHaveLength(1);
      expect(new Set(responses.map((r) => r.body.conversionId)).size).toBe(1);
      expect(await count(Conversion)).toBe(1);
      expect(await count(Postback)).toBe(1);
      await tracker.waitForRequests(1);
      await sleep(300);
      expect(tracker.received).toHaveLength(1);
    });
  });

  it('records 100 concurrent events while the flusher runs, with no transaction errors', async () => {
    tracker.setDefault({ status: 200, delayMs: 5 });
    const valid = Array.from({ length: 100 }, (_, i) => ({
      type: 'purchase',
      orderId: `BULK-${i}`,
      amount: '10.00',
      currency: 'EUR',
      clickId: `click-${i}`,
    }));
    // Refused inside the transaction (the tracker is only checked there): their rollbacks must
    // not take anybody else's writes with them, as they would on a shared SQLite connection.
    const refused = Array.from({ length: 20 }, (_, i) => ({
      type: 'purchase',
      orderId: `BAD-${i}`,
      amount: '10.00',
      currency: 'EUR',
      clickId: `c-${i}`,
      tracker: 'ghost',
    }));
    const bodies = valid.flatMap((event, i) => (i % 5 === 0 ? [event, refused[i / 5]] : [event]));
    const responses = await Promise.all(bodies.map((body) => api().post('/v1/events').send(body)));
    const statuses = responses.map((r) => r.status);
    expect(statuses.filter((s) => s === 202)).toHaveLength(100);
    expect(statuses.filter((s) => s === 400)).toHaveLength(20);
    expect(await count(Conversion)).toBe(100);
    await eventually(
      async () => (await agent.db.run((m) => m.countBy(Postback, { state: 'delivered' }))) === 100,
      20_000,
      '100 delivered postbacks',
    );
    const orders = tracker.received.map((r) => new URL(r.url, 'http://x').searchParams.get('txid'));
    expect(new Set(orders).size).toBe(100);
    expect(tracker.received).toHaveLength(100);
  });

  describe('clicks and reading back', () => {
    it('captures a forwarded landing URL and attributes a later event by session key', async () => {
      const clickId = 'a&b=c#d e+f%20?x=/é😀';
      const landingUrl = `https://shop.example/product?cid=${encodeURIComponent(clickId)}&utm=x`;
      const click = await api()
        .post('/v1/clicks')
        .send({ landingUrl, sessionKey: 'sess-1' })
        .expect(200);
      expect(click.body.captured).toEqual([
        expect.objectContaining({ tracker: 'network', clickId }),
      ]);

      const event = await api()
        .post('/v1/events')
        .send({
          type: 'purchase',
          orderId: 'O-9',
          amount: '50.00',
          currency: 'EUR',
          sessionKey: 'sess-1',
        })
        .expect(202);
      expect(event.body).toMatchObject({
        attributed: true,
        attribution: 'session',
        commission: { amount: '5.00', currency: 'EUR' },
      });

      await tracker.waitForRequests(1);
      expect(new URL(tracker.received[0].url, 'http://x').searchParams.get('cid')).toBe(clickId);
      const conversion = await eventually(async () => {
        const res = await api().get(`/v1/conversions/${event.body.conversionId}`).expect(200);
        return res.body.postbacks[0]?.state === 'delivered' ? res.body : undefined;
      });
      expect(conversion.postbacks[0].attemptLog).toEqual([
        expect.objectContaining({ attempt: 1, statusCode: 200, outcome: 'delivered' }),
      ]);
      expect(conversion.postbacks[0].attemptLog[0].requestUrl).toContain('pb_sig=%5Bredacted%5D');
    });

    it('credits the click seen before an event, not one first captured after it', async () => {
      const capture = (clickId: string) =>
        api()
          .post('/v1/clicks')
          .send({ landingUrl: `https://shop.example/?cid=${clickId}`, sessionKey: 'sess-2' })
          .expect(200);
      await capture('before');
      await capture('after');
      // The first landing was two hours ago; the order, an hour ago, reaches the agent only now,
      // after the second landing.
      const twoHoursAgo = Date.now() - 2 * 3_600_000;
      await agent.db.run((m) =>
        m.update(
          Click,
          { clickId: 'before' },
          { firstSeenAt: twoHoursAgo, lastSeenAt: twoHoursAgo },
        ),
      );
      const event = await api()
        .post('/v1/events')
        .send({
          type: 'purchase',
          orderId: 'O-late',
          amount: '50.00',
          currency: 'EUR',
          sessionKey: 'sess-2',
          occurredAt: new Date(Date.now() - 3_600_000).toISOString(),
        })
        .expect(202);
      expect(event.body).toMatchObject({ attributed: true, attribution: 'session' });
      const [received] = await tracker.waitForRequests(1);
      expect(new URL(received.url, 'http://x').searchParams.get('cid')).toBe('before');
    });

    it('holds an explicit click ID to the attribution window and to its capture time', async () => {
      await api()
        .post('/v1/clicks')
        .send({ landingUrl: 'https://shop.example/?cid=explicit-1' })
        .expect(200);
      const purchase = (orderId: string, daysFromNow: number) =>
        api()
          .post('/v1/events')
          .send({
            type: 'purchase',
            orderId,
            amount: '50.00',
            currency: 'EUR',
            clickId: 'explicit-1',
            occurredAt: new Date(Date.now() + daysFromNow * 86_400_000).toISOString(),
          })
          .expect(202);
      // Ten days before the landing: the click did not lead to it.
      const before = await purchase('O-before-click', -10);
      expect(before.body).toMatchObject({ attributed: false, attribution: 'none', queued: false });
      // 90 days after it, past the 30-day window (the landing is moved back rather than the
      // event forward: events from the future are refused).
      const ninetyDaysAgo = Date.now() - 90 * 86_400_000;
      await agent.db.run((m) =>
        m.update(
          Click,
          { clickId: 'explicit-1' },
          { firstSeenAt: ninetyDaysAgo, lastSeenAt: ninetyDaysAgo },
        ),
      );
      const late = await purchase('O-after-window', 0);
      expect(late.body).toMatchObject({ attributed: false, attribution: 'none', queued: false });
      expect(await count(Postback)).toBe(0);
      // Inside the window it is credited.
      const inWindow = await purchase('O-in-window', -85);
      expect(inWindow.body).toMatchObject({ attribution: 'click_id', queued: true });
    });

    it('records an unattributed event without sending anything', async () => {
      const event = await api()
        .post('/v1/events')
        .send({
          type: 'purchase',
          orderId: 'O-lonely',
          amount: '5.00',
          currency: 'EUR',
          sessionKey: 'nobody',
        })
        .expect(202);
      expect(event.body).toMatchObject({ attributed: false, attribution: 'none', queued: false });
      expect(await count(Postback)).toBe(0);
    });

    it('answers 400, not 500, to a landing URL that passes IsUrl but does not parse', async () => {
      const response = await api()
        .post('/v1/clicks')
        .send({ landingUrl: 'http://xn--a.com/?cid=x' })
        .expect(400);
      expect(response.body.fields.landingUrl).toBeDefined();
    });

    it('answers 400 to an event type neither built in nor declared, and writes no row', async () => {
      const response = await api()
        .post('/v1/events')
        .send({ type: 'purchse', orderId: 'X-1', amount: '10.00', currency: 'EUR', clickId: 'c1' })
        .expect(400);
      expect(response.body.fields.type).toEqual([
        'type "purchse" is not a known event type (did you mean "purchase"?); known: purchase, registration, refund, chargeback, cancellation. A custom type must be declared in the customEventTypes option',
      ]);
      expect(await count(Conversion)).toBe(0);
      expect(await count(Postback)).toBe(0);
    });

    it('applies the catch-all commission to a custom event called "constructor"', async () => {
      await agent.app.close();
      agent = await startAgent({
        databaseUrl: `sqlite:${dir.path}/agent.sqlite`,
        trackers: [testTracker(tracker.url(), { commission: { '*': { fixed: '1.50' } } })],
        customEventTypes: ['constructor'],
        apiKey: API_KEY,
      });
      const event = await api()
        .post('/v1/events')
        .send({
          type: 'constructor',
          orderId: 'X-1',
          amount: '10.00',
          currency: 'EUR',
          clickId: 'c1',
        })
        .expect(202);
      expect(event.body.commission).toEqual({ amount: '1.50', currency: 'EUR' });
    });

    it('answers 404 for an unknown conversion and 400 for a bad state filter', async () => {
      await api().get('/v1/conversions/00000000-0000-4000-8000-000000000000').expect(404);
      await api().get('/v1/postbacks?state=lost').expect(400);
    });
  });
});
