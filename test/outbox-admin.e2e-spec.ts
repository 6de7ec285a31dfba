import request from 'supertest';

import { DeliveryAttempt, OutboxAdminService, Postback } from '../src/index.js';
import { runCli } from '../src/cli/main.js';
import { FakeTracker } from '../src/testing/index.js';
import { FAST_OUTBOX, startAgent, type TestAgent, testTracker } from './utils/agent.js';
import { attemptsOf, record, rowOf, waitForState } from './utils/agent-driver.js';
import { tempDir } from './utils/sqlite.js';

const ADMIN_KEY = 'admin-key-0123456789abcdef';
const DAY_MS = 24 * 60 * 60 * 1000;

describe('outbox operations', () => {
  let tracker: FakeTracker;
  let agent: TestAgent;
  let dir: ReturnType<typeof tempDir>;
  const admin = (path: string) =>
    request(agent.server as never)
      .post(`/v1/admin/postbacks/${path}`)
      .set('authorization', `Bearer ${ADMIN_KEY}`);
  const purchase = async (orderId: string) =>
    (
      await record(agent, {
        type: 'purchase',
        orderId,
        amount: '10.00',
        currency: 'EUR',
        clickId: `c-${orderId}`,
      })
    ).postbackId;
  const stateOf = async (id: string) => (await rowOf(agent, id)).state;
  const until = (id: string, state: Postback['state']) => waitForState(agent, id, state);

  beforeEach(async () => {
    tracker = await new FakeTracker().start();
    dir = tempDir();
    agent = await startAgent({
      databaseUrl: `sqlite:${dir.path}/admin.sqlite`,
      trackers: [testTracker(tracker.url())],
      adminKey: ADMIN_KEY,
    });
  });
  afterEach(async () => {
    await agent.app.close();
    await tracker.stop();
    dir.remove();
  });

  it('replays a dead letter with the same event ID and a fresh attempt budget', async () => {
    tracker.respondWith({ status: 400, body: 'not yet' });
    const id = await purchase('O-replay');
    await until(id, 'dead');

    const replay = await admin('replay')
      .send({ ids: [id] })
      .expect(200);
    expect(replay.body).toEqual({ replayed: 1 });
    await until(id, 'delivered');

    const eventIds = tracker.received.map((r) =>
      new URL(r.url, 'http://x').searchParams.get('pb_id'),
    );
    expect(eventIds).toEqual([id, id]);
    const attempts = await attemptsOf(agent, id);
    expect(attempts.map((a) => [a.statusCode, a.outcome])).toEqual([
      [400, 'dead'],
      [200, 'delivered'],
    ]);
  });

  it('replays every dead letter of one tracker only when asked for all of them', async () => {
    tracker.setDefault({ status: 410 });
    const ids = [await purchase('A'), await purchase('B')];
    for (const id of ids) await until(id, 'dead');
    tracker.setDefault({ status: 200 });

    const refused = await admin('replay').send({}).expect(400);
    expect(refused.body.fields.ids).toBeDefined();
    expect((await admin('replay').send({ tracker: 'network' }).expect(200)).body).toEqual({
      replayed: 2,
    });
    for (const id of ids) await until(id, 'delivered');
  });

  it('cancels a pending postback so that it is never sent, and can replay it later', async () => {
    await agent.app.close();
    agent = await startAgent({
      databaseUrl: `sqlite:${dir.path}/admin.sqlite`,
      trackers: [testTracker(tracker.url())],
      adminKey: ADMIN_KEY,
      outbox: { ...FAST_OUTBOX, enabled: false },
    });
    const id = await purchase('O-cancel');
    expect(
      (
        await admin('cancel')
          .send({ ids: [id] })
          .expect(200)
      ).body,
    ).toEqual({ cancelled: 1 });
    expect(await stateOf(id)).toBe('cancelled');
    expect(tracker.received).toHaveLength(0);
    expect(
      (
        await admin('replay')
          .send({ ids: [id], state: 'cancelled' })
          .expect(200)
      ).body,
    ).toEqual({ replayed: 1 });
    expect(await stateOf(id)).toBe('pending');
  });

  it('purges delivered postbacks older than the retention, in batches, keeping newer ones', async () => {
    const ids = await Promise.all(['P1', 'P2', 'P3', 'P4', 'P5'].map(purchase));
    for (const id of ids) await until(id, 'delivered');
    const old = ids.slice(0, 3);
    await agent.db.run((m) => m.update(Postback, old, { deliveredAt: Date.now() - 40 * DAY_MS }));

    const purged = await agent.app.get(OutboxAdminService).purgeDelivered(30 * DAY_MS, 2);
    expect(purged).toBe(3);
    const left = await agent.db.run((m) => m.find(Postback));
    expect(left.map((p) => p.id).sort()).toEqual(ids.slice(3).sort());
    expect(await agent.db.run((m) => m.countBy(DeliveryAttempt, {}))).toBe(2);
    expect((await admin('purge').send({ olderThanDays: 30 }).expect(200)).body).toEqual({
      purged: 0,
    });
  });

  it('needs the admin key, and is off without one', async () => {
    await request(agent.server as never)
      .post('/v1/admin/postbacks/replay')
      .send({ all: true })
      .expect(401);
    await request(agent.server as never)
      .post('/v1/admin/postbacks/replay')
      .set('authorization', 'Bearer not-the-admin-key-at-all')
      .send({ all: true })
      .expect(401);

    await agent.app.close();
    agent = await startAgent({
      databaseUrl: `sqlite:${dir.path}/admin.sqlite`,
      trackers: [testTracker(tracker.url())],
    });
    const off = await request(agent.server as never)
      .post('/v1/admin/postbacks/replay')
      .send({ all: true })
      .expect(403);
    expect(off.body.message).toMatch(/POSTBACK_ADMIN_KEY/);
  });

  it('drives the same operations from the CLI', async () => {
    tracker.respondWith({ status: 404 });
    const id = await purchase('O-cli');
    await until(id, 'dead');
    await agent.app.listen(0, '127.0.0.1');
    const env = {
      POSTBACK_AGENT_URL: (await agent.app.getUrl()).replace('[::1]', '127.0.0.1'),
      POSTBACK_ADMIN_KEY: ADMIN_KEY,
    };
    const output: string[] = [];
    const io = { env, out: (text: string) => output.push(text), fetch };

    expect(await runCli(['outbox', 'list', '--state', 'dead'], io)).toBe(0);
    expect(JSON.parse(output.pop() as string).postbacks.map((p: Postback) => p.id)).toEqual([id]);
    expect(await runCli(['outbox', 'replay', '--id', id], io)).toBe(0);
    expect(JSON.parse(output.pop() as string)).toEqual({ replayed: 1 });
    await until(id, 'delivered');
    expect(await runCli(['outbox', 'frobnicate'], io)).toBe(2);
    expect(output.pop()).toMatch(/^usage:/);
    expect(
      await runCli(['outbox', 'replay', '--id', id], {
        ...io,
        env: { ...env, POSTBACK_ADMIN_KEY: 'wrong-wrong-wrong-wrong' },
      }),
    ).toBe(1);
  });
});
