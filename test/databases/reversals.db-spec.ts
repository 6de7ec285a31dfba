import request from 'supertest';

import { OutboxAdminService } from '../../src/index.js';
import { FakeTracker, type ReceivedPostback } from '../../src/testing/index.js';
import type { TrackerOptions } from '../../src/index.js';
import { FAST_OUTBOX, startAgent, type TestAgent } from '../utils/agent.js';
import { rowOf, waitForState } from '../utils/agent-driver.js';
import { describeEachDatabase, testDatabases } from '../utils/test-databases.js';
import { eventually, sleep } from '../utils/wait.js';

const query = (r: ReceivedPostback) => Object.fromEntries(new URL(r.url, 'http://x').searchParams);

/** Reversals on every engine: the original is locked, and claims wait for it (NOT EXISTS). */
describeEachDatabase(await testDatabases(), (database) => {
  let tracker: FakeTracker;
  let agent: TestAgent;
  let url: string;
  let drop: () => Promise<void>;

  /** A Keitaro-style tracker: one template, the status says sale, lead or rejected. */
  const keitaroLike = (overrides: Partial<TrackerOptions> = {}): TrackerOptions => ({
    name: 'keitaro',
    clickParams: ['subid'],
    postback: {
      url: `${tracker.url()}?subid={click_id}&tid={order_id}&payout={payout}&amount={amount}&status={status}`,
    },
    eventValues: {
      purchase: { status: 'sale' },
      refund: { status: 'rejected' },
      chargeback: { status: 'rejected' },
      cancellation: { status: 'rejected' },
    },
    commission: { purchase: { percent: '10' } },
    reversals: true,
    ...overrides,
  });
  const start = async (trackers: TrackerOptions[]) => {
    agent = await startAgent({
      databaseUrl: url,
      trackers,
      outbox: { ...FAST_OUTBOX, retry: { ...FAST_OUTBOX.retry, maxAttempts: 50 } },
    });
  };
  const send = (body: Record<string, unknown>) =>
    request(agent.server as never)
      .post('/v1/events')
      .send(body);
  const purchase = {
    type: 'purchase',
    orderId: 'ORDER-1',
    amount: '80.00',
    currency: 'EUR',
    clickId: 'CLICK-1',
  };

  beforeEach(async () => {
    tracker = await new FakeTracker().start();
    ({ url, drop } = await database.create());
  });
  afterEach(async () => {
    await agent.app.close();
    await tracker.stop();
    await drop();
  });

  it('sends the reversal after the sale, with the rejected status and the full commission', async () => {
    await start([keitaroLike()]);
    await send(purchase).expect(202);
    await tracker.waitForRequests(1);
    const refund = await send({ type: 'refund', orderId: 'ORDER-1' }).expect(202);
    expect(refund.body).toMatchObject({
      attributed: true,
      queued: true,
      commission: { amount: '8.00', currency: 'EUR' },
    });
    await tracker.waitForRequests(2);
    expect(tracker.received.map(query)).toEqual([
      { subid: 'CLICK-1', tid: 'ORDER-1', payout: '8.00', amount: '80.00', status: 'sale' },
      { subid: 'CLICK-1', tid: 'ORDER-1', payout: '8.00', amount: '80.00', status: 'rejected' },
    ]);
  });

  it('reverses a partial refund in proportion, each partial refund once', async () => {
    await start([keitaroLike()]);
    await send(purchase).expect(202);
    const first = await send({
      type: 'refund',
      orderId: 'ORDER-1',
      reversalId: 'R-1',
      amount: '20.00',
      currency: 'EUR',
    }).expect(202);
    expect(first.body.commission).toEqual({ amount: '2.00', currency: 'EUR' });
    const again = await send({
      type: 'refund',
      orderId: 'ORDER-1',
      reversalId: 'R-1',
      amount: '20.00',
      currency: 'EUR',
    }).expect(202);
    expect(again.body).toMatchObject({ duplicate: true, conversionId: first.body.conversionId });
    await send({
      type: 'refund',
      orderId: 'ORDER-1',
      reversalId: 'R-2',
      amount: '30.00',
      currency: 'EUR',
    }).expect(202);
    // 20 + 30 of 80 reversed: 31 more would exceed the order.
    const over = await send({
      type: 'refund',
      orderId: 'ORDER-1',
      reversalId: 'R-3',
      amount: '31.00',
      currency: 'EUR',
    }).expect(400);
    expect(over.body.fields.amount[0]).toMatch(/what is left of the order to reverse \(30.00\)/);
    await tracker.waitForRequests(3);
    await sleep(200);
    // Both refunds wait for the sale, then go out together, in either order.
    const sent = tracker.received.map((r) => [query(r).status, query(r).amount, query(r).payout]);
    expect(sent[0]).toEqual(['sale', '80.00', '8.00']);
    expect(sent.slice(1).sort()).toEqual([
      ['rejected', '20.00', '2.00'],
      ['rejected', '30.00', '3.00'],
    ]);
  });

  it('holds a reversal back until the original has been delivered', async () => {
    tracker.respondWith({ status: 503 }, { status: 503 }, { status: 503 });
    await start([keitaroLike()]);
    await send(purchase).expect(202);
    await send({ type: 'chargeback', orderId: 'ORDER-1' }).expect(202);
    await eventually(
      () => tracker.received.filter((r) => r.status === 200).length === 2,
      10_000,
      'both delivered',
    );
    // Three failed sales, then the sale, and only then the chargeback.
    expect(tracker.received.map((r) => [query(r).status, r.status])).toEqual([
      ['sale', 503],
      ['sale', 503],
      ['sale', 503],
      ['sale', 200],
      ['rejected', 200],
    ]);
  });

  it('dead-letters a reversal whose original was never delivered, saying why', async () => {
    tracker.setDefault({ status: 400 });
    await start([keitaroLike()]);
    await send(purchase).expect(202);
    const refund = await send({ type: 'refund', orderId: 'ORDER-1' }).expect(202);
    const row = await waitForState(agent, refund.body.postbackId, 'dead');
    expect(row.lastError).toMatch(/original conversion's postback was never delivered \(dead\)/);
    expect(tracker.received.map((r) => query(r).status)).toEqual(['sale']);
  });

  it('replays a dead original with its dead-lettered reversal, which still goes second', async () => {
    tracker.setDefault({ status: 400 });
    await start([keitaroLike()]);
    const sale = await send(purchase).expect(202);
    const refund = await send({ type: 'refund', orderId: 'ORDER-1' }).expect(202);
    const ids = [sale.body.postbackId as string, refund.body.postbackId as string];
    const states = async () => Promise.all(ids.map(async (id) => (await rowOf(agent, id)).state));
    await eventually(async () => (await states()).every((state) => state === 'dead'));

    tracker.setDefault({ status: 200 });
    // The operator names the sale only: its reversal comes along.
    expect(await agent.app.get(OutboxAdminService).replay({ ids: [ids[0]] })).toBe(2);
    await eventually(async () => (await states()).every((state) => state === 'delivered'));
    expect(tracker.received.map((r) => [query(r).status, r.status])).toEqual([
      ['sale', 400],
      ['sale', 200],
      ['rejected', 200],
    ]);
  });

  it('sends no reversal to a tracker that has not opted in, and refuses a refund larger than the order', async () => {
    await start([keitaroLike({ reversals: false })]);
    await send(purchase).expect(202);
    const tooMuch = await send({
      type: 'refund',
      orderId: 'ORDER-1',
      reversalId: 'R-9',
      amount: '90.00',
      currency: 'EUR',
    }).expect(400);
    expect(tooMuch.body.fields.amount[0]).toMatch(
      /more than what is left of the order to reverse \(80.00\)/,
    );
    const refund = await send({ type: 'refund', orderId: 'ORDER-1' }).expect(202);
    expect(refund.body).toMatchObject({ attributed: true, queued: false });
    const unknown = await send({ type: 'refund', orderId: 'NO-SUCH-ORDER' }).expect(202);
    expect(unknown.body).toMatchObject({ attributed: false, queued: false });
    await sleep(300);
    expect(tracker.received.map((r) => query(r).status)).toEqual(['sale']);
  });

  it('numbers partial refunds per order, reverses the purchase rather than a lead of the same ID, and rounds cumulatively', async () => {
    await start([
      keitaroLike({
        commission: {
          purchase: { fixed: '0.05' },
          registration: { fixed: '2.00', currency: 'EUR' },
        },
      }),
    ]);
    // A lead that happens to carry the order's ID: not what a refund undoes.
    await send({
      type: 'registration',
      customerId: 'cust-1',
      orderId: 'ORDER-1',
      clickId: 'CLICK-1',
    }).expect(202);
    await send({ ...purchase, amount: '3.00' }).expect(202);
    await send({
      type: 'purchase',
      orderId: 'ORDER-2',
      amount: '3.00',
      currency: 'EUR',
      clickId: 'CLICK-2',
    }).expect(202);
    const halves = [];
    for (const orderId of ['ORDER-1', 'ORDER-2']) {
      for (const reversalId of ['R-1', 'R-2']) {
        const res = await send({
          type: 'refund',
          orderId,
          reversalId,
          amount: '1.50',
          currency: 'EUR',
        }).expect(202);
        expect(res.body.duplicate).toBe(false); // R-1 of ORDER-2 is not R-1 of ORDER-1
        halves.push(res.body.commission.amount);
      }
    }
    // 0.05 reversed in two halves: 0.03 + 0.02, never 0.03 + 0.03.
    expect(halves).toEqual(['0.03', '0.02', '0.03', '0.02']);
  });

  it('reverses what is left when a chargeback follows a partial refund', async () => {
    await start([keitaroLike()]);
    await send(purchase).expect(202);
    await send({
      type: 'refund',
      orderId: 'ORDER-1',
      reversalId: 'R-1',
      amount: '20.00',
      currency: 'EUR',
    }).expect(202);
    const chargeback = await send({ type: 'chargeback', orderId: 'ORDER-1' }).expect(202);
    expect(chargeback.body.commission).toEqual({ amount: '6.00', currency: 'EUR' });
    const again = await send({ type: 'cancellation', orderId: 'ORDER-1' }).expect(400);
    expect(again.body.fields.orderId[0]).toMatch(/already reversed in full/);
    await tracker.waitForRequests(3);
    const sent = tracker.received.map((r) => [query(r).status, query(r).amount]);
    expect(sent[0]).toEqual(['sale', '80.00']);
    expect(sent.slice(1).sort()).toEqual([
      ['rejected', '20.00'],
      ['rejected', '60.00'],
    ]);
  });
});
