import request from 'supertest';

import { Postback } from '../src/index.js';
import { FakeTracker } from '../src/demo/fake-tracker.js';
import { startAgent, type TestAgent, testTracker } from './utils/agent.js';
import { eventually, tempDir } from './utils/sqlite.js';

const TIMEOUT_MS = 1_500;

describe('tracker isolation', () => {
  let healthy: FakeTracker;
  let hanging: FakeTracker;
  let agent: TestAgent;
  let dir: ReturnType<typeof tempDir>;

  beforeEach(async () => {
    healthy = await new FakeTracker().start();
    hanging = await new FakeTracker().start();
    hanging.setDefault({ hang: true });
    dir = tempDir();
    agent = await startAgent({
      databaseUrl: `sqlite:${dir.path}/isolation.sqlite`,
      trackers: [
        testTracker(healthy.url(), { name: 'healthy', clickParams: ['h'] }),
        testTracker(hanging.url(), { name: 'hanging', clickParams: ['x'] }),
      ],
      outbox: {
        flushIntervalMs: 50,
        concurrency: 4, // two slots per tracker
        timeoutMs: TIMEOUT_MS,
        leaseMs: 5_000,
        retry: { initialDelayMs: 10, multiplier: 1, jitter: 0, maxAttempts: 50 },
        circuitBreaker: { failureThreshold: 4, cooldownMs: 60_000 },
      },
    });
  });

  afterEach(async () => {
    await agent.app.close();
    await healthy.stop();
    await hanging.stop();
    dir.remove();
  });

  const record = (tracker: string, i: number) =>
    request(agent.server as never)
      .post('/v1/events')
      .send({ type: 'purchase', orderId: `${tracker}-${i}`, amount: '10.00', currency: 'EUR', clickId: `${tracker}-click-${i}`, tracker })
      .expect(202);

  it('keeps delivering to a healthy tracker while another hangs, and pauses the hanging one', async () => {
    // The hanging tracker's backlog is queued first and keeps failing.
    for (let i = 0; i < 20; i++) await record('hanging', i);
    await hanging.waitForRequests(2, 2_000); // both of its slots are now held

    const started = Date.now();
    for (let i = 0; i < 20; i++) await record('healthy', i);
    await healthy.waitForRequests(20, TIMEOUT_MS);
    // All delivered before the hanging tracker's first attempts could even time out: the
    // healthy tracker never waited behind it.
    expect(Date.now() - started).toBeLessThan(TIMEOUT_MS);

    // After four timeouts in a row its circuit opens: no further requests for the cooldown,
    // and its rows wait in the database, pending (claims skip the paused tracker), not in a slot.
    await eventually(
      async () =>
        hanging.received.length >= 4 &&
        (await agent.db.run((m) => m.countBy(Postback, { tracker: 'hanging', state: 'in_flight' }))) === 0,
      5 * TIMEOUT_MS,
      'the hanging tracker to be paused',
    );
    const sentWhilePaused = hanging.received.length;
    // The fourth failure opens it; a send that started before then may still be one more.
    expect(sentWhilePaused).toBeGreaterThanOrEqual(4);
    expect(sentWhilePaused).toBeLessThanOrEqual(4 + 2 - 1);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(hanging.received.length).toBe(sentWhilePaused);
    const waiting = await agent.db.run((m) => m.findBy(Postback, { tracker: 'hanging' }));
    expect(waiting.map((p) => p.state)).toEqual(Array(20).fill('pending'));
  }, 20_000);
});
