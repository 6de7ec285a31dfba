import { jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import request from 'supertest';

import { FakeTracker } from '../src/testing/index.js';
import { FAST_OUTBOX, startAgent, type TestAgent, testTracker } from './utils/agent.js';
import { tempDir } from './utils/sqlite.js';
import { eventually } from './utils/wait.js';

/**
 * A tracker that keeps failing is paused by its circuit breaker: the operator reads it in the
 * log, once, with the reason, and in `/health`, with the time of the next probe.
 */
describe('a paused tracker', () => {
  let tracker: FakeTracker;
  let agent: TestAgent;
  let dir: ReturnType<typeof tempDir>;
  const logged: string[] = [];

  beforeEach(async () => {
    tracker = await new FakeTracker().start();
    dir = tempDir();
    for (const level of ['log', 'warn'] as const) {
      jest.spyOn(Logger.prototype, level).mockImplementation((message: unknown) => {
        logged.push(String(message));
      });
    }
  });
  afterEach(async () => {
    await agent?.app.close();
    await tracker.stop();
    dir.remove();
    jest.restoreAllMocks();
  });

  const circuitLines = () => logged.filter((line) => line.includes('circuit'));

  it('is logged when its circuit opens, probes and closes, and shown by /health meanwhile', async () => {
    tracker.setDefault({ status: 503 });
    let now = Date.now();
    agent = await startAgent({
      databaseUrl: `sqlite:${dir.path}/paused.sqlite`,
      trackers: [testTracker(tracker.url())],
      outbox: { ...FAST_OUTBOX, circuitBreaker: { failureThreshold: 2, cooldownMs: 60_000 } },
      clock: () => now,
    });
    for (let i = 0; i < 3; i++) {
      await request(agent.server as never)
        .post('/v1/events')
        .send({
          type: 'purchase',
          orderId: `P-${i}`,
          amount: '1.00',
          currency: 'EUR',
          clickId: `c-${i}`,
        })
        .expect(202);
    }
    await eventually(async () => circuitLines().length > 0, 10_000, 'the circuit opens');
    const opened = now;

    const health = await request(agent.server as never)
      .get('/health')
      .expect(200);
    expect(health.body.status).toBe('ok');
    expect(health.body.pausedTrackers).toEqual([
      {
        tracker: 'network',
        circuit: 'open',
        nextProbeAt: expect.any(String),
        failures: expect.any(Number),
        reason: 'HTTP 503',
      },
    ]);
    const nextProbeAt = Date.parse(health.body.pausedTrackers[0].nextProbeAt);
    expect(nextProbeAt).toBe(opened + 60_000);
    expect(circuitLines()).toEqual([
      `Tracker "network": circuit opened after 2 consecutive failures (HTTP 503); its postbacks wait in the database, next probe at ${new Date(nextProbeAt).toISOString()}`,
    ]);

    // The cooldown ends; the tracker is back: one probe, then sending resumes.
    tracker.setDefault({ status: 200 });
    now += 61_000;
    await eventually(
      async () => circuitLines().some((line) => line.includes('closed')),
      10_000,
      'the circuit closes',
    );
    expect(circuitLines().slice(1)).toEqual([
      'Tracker "network": circuit half-open, one postback goes out as a probe',
      'Tracker "network": circuit closed, the tracker answers again; sending resumes',
    ]);
    expect(
      (
        await request(agent.server as never)
          .get('/health')
          .expect(200)
      ).body.pausedTrackers,
    ).toEqual([]);
  }, 30_000);
});
