import request from 'supertest';
import { DataSource } from 'typeorm';

import { Conversion, Postback } from '../../src/index.js';
import { postbackDataSourceOptions } from '../../src/postback.data-source.js';
import { POSTBACK_MIGRATIONS } from '../../src/postback.schema.js';
import { registrationReference } from '../../src/conversion/idempotency-key.js';
import { FakeTracker } from '../../src/testing/index.js';
import { FAST_OUTBOX, startAgent, testTracker, type TestAgent } from '../utils/agent.js';
import { describeEachDatabase, testDatabases } from '../utils/test-databases.js';

/**
 * A registration is one per customer, whatever order ID it carries (README, Report events):
 * held by the unique (type, reference) index, so two agents registering the same customer at
 * once still make one conversion and one postback.
 */
describeEachDatabase(await testDatabases(), (database) => {
  let tracker: FakeTracker;
  let url: string;
  let drop: () => Promise<void>;
  const agents: TestAgent[] = [];
  const start = async () => {
    const agent = await startAgent({
      databaseUrl: url,
      trackers: [
        testTracker(tracker.url(), {
          commission: { registration: { fixed: '2.00', currency: 'EUR' } },
        }),
      ],
      outbox: FAST_OUTBOX,
    });
    agents.push(agent);
    return agent;
  };
  const register = (agent: TestAgent, orderId?: string) =>
    request(agent.server as never)
      .post('/v1/events')
      .send({
        type: 'registration',
        customerId: 'cust-1',
        clickId: 'CLICK-1',
        ...(orderId !== undefined && { orderId }),
      });
  const registrations = (agent: TestAgent) =>
    agent.db.run((m) => m.findBy(Conversion, { type: 'registration' }));

  beforeEach(async () => {
    tracker = await new FakeTracker().start();
    ({ url, drop } = await database.create());
  });
  afterEach(async () => {
    for (const agent of agents.splice(0)) await agent.app.close();
    await tracker.stop();
    await drop();
  });

  it('records a customer registering again under another order ID once', async () => {
    const agent = await start();
    const first = await register(agent, 'SIGNUP-1').expect(202);
    expect(first.body).toMatchObject({ duplicate: false, queued: true });
    for (const orderId of ['SIGNUP-2', undefined]) {
      const again = await register(agent, orderId).expect(202);
      expect(again.body).toMatchObject({
        duplicate: true,
        conversionId: first.body.conversionId,
        postbackId: first.body.postbackId,
      });
    }
    const rows = await registrations(agent);
    expect(rows.map((r) => [r.reference, r.orderId])).toEqual([
      [registrationReference('cust-1'), 'SIGNUP-1'],
    ]);
    expect(await agent.db.run((m) => m.countBy(Postback, {}))).toBe(1);
  }, 30_000);

  it('records concurrent registrations of one customer under different order IDs once, across two agents', async () => {
    // One process per SQLite file: there, one agent takes all the concurrent requests.
    const first = await start();
    const second = database.kind === 'sqlite' ? first : await start();
    const settled = await Promise.all(
      Array.from({ length: 20 }, (_, i) => register(i % 2 ? second : first, `SIGNUP-${i}`)),
    );
    expect(settled.map((r) => r.status)).toEqual(settled.map(() => 202));
    expect(settled.filter((r) => !r.body.duplicate)).toHaveLength(1);
    expect(new Set(settled.map((r) => r.body.conversionId)).size).toBe(1);
    expect(new Set(settled.map((r) => r.body.postbackId)).size).toBe(1);
    expect(await registrations(first)).toHaveLength(1);
    expect(await first.db.run((m) => m.countBy(Postback, {}))).toBe(1);
    await tracker.waitForRequests(1);
  }, 60_000);

  /** Registrations as recorded before RegistrationPerCustomer: keyed by their order ID. */
  const legacy = async (rows: [customerId: string, orderId: string | null][]) => {
    const before = await new DataSource({
      ...postbackDataSourceOptions({ url }),
      migrations: POSTBACK_MIGRATIONS.slice(0, 2),
    } as never).initialize();
    const conversions = rows.map(([customerId, orderId], i) => ({
      id: `00000000-0000-7000-8000-${String(i + 1).padStart(12, '0')}`,
      type: 'registration',
      reference: orderId ?? customerId,
      orderId,
      customerId,
      visitorKey: null,
      amount: null,
      currency: null,
      commission: null,
      commissionCurrency: null,
      tracker: null,
      clickId: null,
      attribution: 'none' as const,
      occurredAt: i + 1,
      createdAt: i + 1,
    }));
    for (let i = 0; i < conversions.length; i += 200)
      await before.getRepository(Conversion).insert(conversions.slice(i, i + 200));
    await before.destroy();
    return conversions.map((c) => c.id);
  };
  const references = async (agent: TestAgent) =>
    new Map((await registrations(agent)).map((r) => [r.id, r.reference]));

  it('re-keys the earliest registration of each customer recorded before the upgrade', async () => {
    const ids = await legacy([
      ['cust-1', 'SIGNUP-A'],
      ['cust-1', 'SIGNUP-B'],
      ['cust-2', null],
      ['cust-2', 'SIGNUP-C'],
    ]);
    const agent = await start(); // runs the remaining migrations
    expect(await references(agent)).toEqual(
      new Map([
        [ids[0], registrationReference('cust-1')],
        [ids[1], 'SIGNUP-B'],
        [ids[2], registrationReference('cust-2')],
        [ids[3], 'SIGNUP-C'],
      ]),
    );
    const again = await register(agent, 'SIGNUP-D').expect(202);
    expect(again.body).toMatchObject({ duplicate: true, conversionId: ids[0] });
  }, 30_000);

  it("keeps customer IDs apart from older registrations' order IDs", async () => {
    // Small integers for both, as many shops number them: customer 1001's registration is
    // not order 1001's, and new customer 3003 is not customer 5's second registration.
    const ids = await legacy([
      ['5', '1001'],
      ['5', '3003'],
      ['1001', '2002'],
    ]);
    const agent = await start();
    const registerAs = (customerId: string) =>
      request(agent.server as never)
        .post('/v1/events')
        .send({ type: 'registration', customerId, clickId: 'CLICK-1' })
        .expect(202);
    for (const [customerId, id] of [
      ['1001', ids[2]],
      ['5', ids[0]],
    ]) {
      expect((await registerAs(customerId)).body).toMatchObject({
        duplicate: true,
        conversionId: id,
      });
    }
    const newcomer = await registerAs('3003');
    expect(newcomer.body).toMatchObject({ duplicate: false, queued: true });
    expect(ids).not.toContain(newcomer.body.conversionId);
    expect(await agent.db.run((m) => m.countBy(Postback, {}))).toBe(1);
  }, 30_000);

  it('re-keys every customer, past the pages the migration reads in', async () => {
    // 1,503 rows, three per customer: pages of 500 end inside a customer's rows.
    const customers = Array.from({ length: 501 }, (_, i) => `c${String(i).padStart(3, '0')}`);
    const ids = await legacy(
      customers.flatMap((c) => [1, 2, 3].map((n): [string, string] => [c, `${c}-${n}`])),
    );
    const agent = await start();
    const expected = new Map(
      ids.map((id, i) => {
        const customer = customers[Math.floor(i / 3)];
        return [id, i % 3 === 0 ? registrationReference(customer) : `${customer}-${(i % 3) + 1}`];
      }),
    );
    expect(await references(agent)).toEqual(expected);
  }, 60_000);
});
