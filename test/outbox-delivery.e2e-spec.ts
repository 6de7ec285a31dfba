import request from 'supertest';

import { DeliveryAttempt, Postback, verifyPostbackSignature } from '../src/index.js';
import { FakeTracker } from '../src/demo/fake-tracker.js';
import { OutboxStore } from '../src/outbox/outbox.store.js';
import { FAST_OUTBOX, HMAC_SECRET, startAgent, type TestAgent, testTracker } from './utils/agent.js';
import { eventually, tempDir } from './utils/sqlite.js';

const purchase = (orderId: string) => ({
  type: 'purchase',
  orderId,
  amount: '30.00',
  currency: 'EUR',
  clickId: `click-of-${orderId}`,
});

describe('outbox delivery', () => {
  let tracker: FakeTracker;
  let dir: ReturnType<typeof tempDir>;
  const agents: TestAgent[] = [];

  const start = async (outbox = FAST_OUTBOX, trackerUrl = tracker.url()) => {
    const agent = await startAgent({
      databaseUrl: `sqlite:${dir.path}/outbox.sqlite`,
      trackers: [testTracker(trackerUrl)],
      outbox,
    });
    agents.push(agent);
    return agent;
  };
  const record = async (agent: TestAgent, orderId: string) =>
    (await request(agent.server as never).post('/v1/events').send(purchase(orderId)).expect(202)).body;
  const postbackOf = (agent: TestAgent, id: string) =>
    agent.db.run((m) => m.findOneByOrFail(Postback, { id }));
  const attemptsOf = (agent: TestAgent, postbackId: string) =>
    agent.db.run((m) => m.find(DeliveryAttempt, { where: { postbackId }, order: { attempt: 'ASC' } }));
  const settled = (agent: TestAgent, id: string, state: Postback['state']) =>
    eventually(async () => (await postbackOf(agent, id)).state === state, 10_000, `postback ${state}`);

  beforeEach(async () => {
    tracker = await new FakeTracker().start();
    dir = tempDir();
  });

  afterEach(async () => {
    for (const agent of agents.splice(0)) await agent.app.close();
    await tracker.stop();
    dir.remove();
  });

  it('delivers on the third attempt after two 503s, recording every attempt with the same event ID', async () => {
    tracker.respondWith({ status: 503, body: 'down' }, { status: 503, body: 'still down' });
    const agent = await start();
    const { postbackId } = await record(agent, 'O-503');
    await settled(agent, postbackId, 'delivered');

    const attempts = await attemptsOf(agent, postbackId);
    expect(attempts.map((a) => [a.attempt, a.statusCode, a.outcome])).toEqual([
      [1, 503, 'retry'],
      [2, 503, 'retry'],
      [3, 200, 'delivered'],
    ]);
    expect(attempts[0].responseExcerpt).toBe('down');
    expect(tracker.received).toHaveLength(3);
    const ids = tracker.received.map((r) => new URL(r.url, 'http://x').searchParams.get('pb_id'));
    expect(new Set(ids)).toEqual(new Set([postbackId]));
    for (const received of tracker.received) {
      expect(verifyPostbackSignature({ secret: HMAC_SECRET, url: received.url })).toBe(true);
    }
    expect(await postbackOf(agent, postbackId)).toMatchObject({ attempts: 3, lastStatus: 200 });
  });

  it('dead-letters a permanent 400 at once, with status and body, visible through the API', async () => {
    tracker.setDefault({ status: 400, body: 'unknown click id' });
    const agent = await start();
    const { postbackId } = await record(agent, 'O-400');
    await settled(agent, postbackId, 'dead');
    expect(tracker.received).toHaveLength(1);

    const dead = await request(agent.server as never).get('/v1/postbacks?state=dead').expect(200);
    expect(dead.body.postbacks).toEqual([
      expect.objectContaining({
        id: postbackId,
        lastStatus: 400,
        lastError: expect.stringContaining('HTTP 400'),
        attemptLog: [expect.objectContaining({ statusCode: 400, responseExcerpt: 'unknown click id', outcome: 'dead' })],
      }),
    ]);
  });

  it('gives up after the last attempt and says why', async () => {
    tracker.setDefault({ status: 500 });
    const agent = await start();
    const { postbackId } = await record(agent, 'O-500');
    await settled(agent, postbackId, 'dead');
    const row = await postbackOf(agent, postbackId);
    expect(row.attempts).toBe(FAST_OUTBOX.retry?.maxAttempts);
    expect(row.lastError).toMatch(/gave up after 5 attempts; last: HTTP 500/);
    expect(tracker.received).toHaveLength(5);
  });

  it('ends an attempt on a hanging tracker at the timeout and retries', async () => {
    tracker.respondWith({ hang: true });
    const agent = await start({ ...FAST_OUTBOX, timeoutMs: 300, leaseMs: 2_000 });
    const { postbackId } = await record(agent, 'O-hang');
    await settled(agent, postbackId, 'delivered');
    const [first, second] = await attemptsOf(agent, postbackId);
    expect(first).toMatchObject({ outcome: 'retry', statusCode: null, error: 'timed out after 300 ms' });
    expect(first.durationMs).toBeGreaterThanOrEqual(250);
    expect(first.durationMs).toBeLessThan(2_000);
    expect(second).toMatchObject({ outcome: 'delivered', statusCode: 200 });
  });

  it('persists a Retry-After in the row instead of waiting in memory', async () => {
    tracker.respondWith({ status: 429, headers: { 'retry-after': '120' } });
    const agent = await start();
    const before = Date.now();
    const { postbackId } = await record(agent, 'O-429');
    const row = await eventually(async () => {
      const current = await postbackOf(agent, postbackId);
      return current.attempts === 1 && current.state === 'pending' ? current : undefined;
    });
    expect(row.nextAttemptAt).toBeGreaterThanOrEqual(before + 120_000);
    expect(row.lastError).toBe('HTTP 429');
  });

  it('delivers after a restart a postback whose tracker was down', async () => {
    const port = tracker.port;
    await tracker.stop();
    const first = await start({ ...FAST_OUTBOX, retry: { ...FAST_OUTBOX.retry, initialDelayMs: 300 } }, `http://127.0.0.1:${port}/postback`);
    const { postbackId } = await record(first, 'O-restart');
    await eventually(async () => (await attemptsOf(first, postbackId)).length >= 1, 5_000, 'a failed attempt');
    expect((await attemptsOf(first, postbackId))[0].error).toMatch(/ECONNREFUSED/);
    await first.app.close();

    tracker = await new FakeTracker().start(port);
    const second = await start(FAST_OUTBOX, `http://127.0.0.1:${port}/postback`);
    await settled(second, postbackId, 'delivered');
    expect(tracker.received).toHaveLength(1);
    expect(new URL(tracker.received[0].url, 'http://x').searchParams.get('cid')).toBe('click-of-O-restart');
  });

  it('re-sends, with the same event ID, a postback claimed by a worker that died', async () => {
    const crashed = await start({ ...FAST_OUTBOX, enabled: false, leaseMs: 2_500 });
    const { postbackId } = await record(crashed, 'O-crash');
    // The worker claims the row, then dies before sending or settling it.
    const [claimed] = await crashed.app.get(OutboxStore).claimDue(10);
    expect(claimed).toMatchObject({ id: postbackId, state: 'in_flight' });
    await crashed.app.close();

    const survivor = await start({ ...FAST_OUTBOX, leaseMs: 2_500 });
    await settled(survivor, postbackId, 'delivered');
    expect(tracker.received).toHaveLength(1);
    expect(new URL(tracker.received[0].url, 'http://x').searchParams.get('pb_id')).toBe(postbackId);
  });

  it('refuses to let a worker whose lease was taken over record its outcome', async () => {
    const agent = await start({ ...FAST_OUTBOX, enabled: false, leaseMs: 2_500 });
    const { postbackId } = await record(agent, 'O-lease');
    const store = agent.app.get(OutboxStore);
    const [stale] = await store.claimDue(10);
    // The lease runs out; another worker claims the row and delivers it.
    await agent.db.run((m) => m.update(Postback, { id: postbackId }, { nextAttemptAt: Date.now() - 1 }));
    const [current] = await store.claimDue(10);
    expect(current.claimToken).not.toBe(stale.claimToken);
    const attempt = { attempt: 1, startedAt: Date.now(), durationMs: 1, requestUrl: 'x', responseExcerpt: null };
    expect(await store.settle(current, { ...attempt, statusCode: 200, outcome: 'delivered', error: null }, { state: 'delivered' })).toBe(true);
    // The stale worker's late failure must not overwrite the delivery.
    expect(await store.settle(stale, { ...attempt, statusCode: 500, outcome: 'retry', error: 'HTTP 500' }, { state: 'pending' })).toBe(false);
    expect((await postbackOf(agent, postbackId)).state).toBe('delivered');
  });

  it('lets a send in flight finish on shutdown and records its outcome', async () => {
    tracker.respondWith({ status: 200, delayMs: 700 });
    const agent = await start();
    const { postbackId } = await record(agent, 'O-shutdown');
    await tracker.waitForRequests(1); // the tracker has the request; its answer is 700 ms away
    await agent.app.close();
    agents.splice(agents.indexOf(agent), 1);

    const reopened = await start({ ...FAST_OUTBOX, enabled: false });
    expect(await postbackOf(reopened, postbackId)).toMatchObject({ state: 'delivered', attempts: 1 });
    expect(tracker.received).toHaveLength(1);
  });
});
