import request from 'supertest';
import { DataSource } from 'typeorm';

import { Conversion, Postback } from '../../src/index.js';
import { postbackDataSourceOptions } from '../../src/database/data-source-options.js';
import { POSTBACK_MIGRATIONS } from '../../src/database/postback-schema.js';
import { FakeTracker } from '../../src/demo/fake-tracker.js';
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
    expect(rows.map((r) => [r.reference, r.orderId])).toEqual([['cust-1', 'SIGNUP-1']]);
    expect(await agent.db.run((m) => m.countBy(Postback, {}))).toBe(1);
  }, 30_000);

  it('records concurrent registrations of one customer under different order IDs once, across two agents', async () => {
    // One process per SQLite file: there, one agent takes all the concurrent requests.
    const first = await start();
    const second = database.label === 'SQLite' ? first : await start();
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

  it('re-keys the earliest registration of each customer recorded before the upgrade', async () => {
    // The schema as it was before RegistrationPerCustomer, with registrations keyed by order ID.
    const before = await new DataSource({
      ...postbackDataSourceOptions({ url }),
      migrations: POSTBACK_MIGRATIONS.slice(0, 2),
    } as never).initialize();
    const row = (id: string, customerId: string, reference: string, createdAt: number) => ({
      id,
      type: 'registration',
      reference,
      orderId: reference === customerId ? null : reference,
      customerId,
      visitorKey: null,
      amount: null,
      currency: null,
      commission: null,
      commissionCurrency: null,
      tracker: null,
      clickId: null,
      attribution: 'none' as const,
      occurredAt: createdAt,
      createdAt,
    });
    await before
      .getRepository(Conversion)
      .insert([
        row('00000000-0000-7000-8000-000000000002', 'cust-1', 'SIGNUP-B', 2),
        row('00000000-0000-7000-8000-000000000001', 'cust-1', 'SIGNUP-A', 1),
        row('00000000-0000-7000-8000-000000000003', 'cust-2', 'cust-2', 3),
        row('00000000-0000-7000-8000-000000000004', 'cust-2', 'SIGNUP-C', 4),
      ]);
    await before.destroy();

    const agent = await start(); // runs the remaining migrations
    const keys = (await registrations(agent))
      .map((r) => [r.id.slice(-1), r.reference])
      .sort(([a], [b]) => a.localeCompare(b));
    expect(keys).toEqual([
      ['1', 'cust-1'],
      ['2', 'SIGNUP-B'],
      ['3', 'cust-2'],
      ['4', 'SIGNUP-C'],
    ]);
    const again = await register(agent, 'SIGNUP-D').expect(202);
    expect(again.body).toMatchObject({
      duplicate: true,
      conversionId: '00000000-0000-7000-8000-000000000001',
    });
  }, 30_000);
});
