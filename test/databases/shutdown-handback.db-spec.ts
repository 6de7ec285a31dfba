import { readFileSync } from 'node:fs';

import request from 'supertest';

import { FakeTracker } from '../../src/testing/index.js';
import { Postback } from '../../src/index.js';
import { startAgent, type TestAgent, testTracker } from '../utils/agent.js';
import { describeEachDatabase, testDatabases } from '../utils/test-databases.js';
import { eventually } from '../utils/wait.js';

const databases = await testDatabases();

/**
 * At shutdown the flusher holds rows it claimed but has not started, queued behind a slow
 * tracker. They go back to the database before it closes, due at once and with no attempt
 * counted; left claimed, they would wait out their lease (two minutes by default) and then be
 * counted as an attempt that never happened.
 */
describeEachDatabase(databases, (database) => {
  let tracker: FakeTracker;
  let drop: () => Promise<void>;
  const agents: TestAgent[] = [];

  afterEach(async () => {
    for (const agent of agents.splice(0)) await agent.app.close();
    await tracker?.stop();
    await drop?.();
  });

  it('hands back the claimed rows not yet sent when the grace period ends', async () => {
    tracker = await new FakeTracker().start();
    // The first send outlasts the grace period; the rows behind it wait for its slot.
    tracker.setDefault({ status: 200, delayMs: 2_500 });
    const created = await database.create();
    drop = created.drop;
    const start = (enabled: boolean) =>
      startAgent({
        databaseUrl: created.url,
        trackers: [testTracker(tracker.url(), { concurrency: 1 })],
        outbox: {
          enabled,
          flushIntervalMs: 60_000,
          concurrency: 1,
          batchSize: 10,
          timeoutMs: 5_000,
          leaseMs: 60_000,
          shutdownGraceMs: 100,
        },
      });
    const recording = await start(false);
    agents.push(recording);
    for (let i = 0; i < 6; i++) {
      await request(recording.server as never)
        .post('/v1/events')
        .send({
          type: 'purchase',
          orderId: `H-${i}`,
          amount: '1.00',
          currency: 'EUR',
          clickId: `c-${i}`,
        })
        .expect(202);
    }
    await agents.splice(0)[0].app.close();

    // Claims a window of rows at start-up and starts the first send.
    const sending = await start(true);
    await tracker.waitForRequests(1, 10_000);
    if (database.kind !== 'sqlite') {
      // Marked while its request is out, with an exchange of its own (see SendMarks).
      // (Still in flight: the tracker holds its answer for 2.5 s.)
      const marked = async () =>
        (await sending.db.run((m) => m.find(Postback))).some(
          (r) => r.sendingAt !== null && r.state === 'in_flight',
        );
      await eventually(marked, 1_500, 'the send marked on its row').catch(() => undefined);
      expect(await marked()).toBe(true);
    }
    await sending.app.close();

    const reader = await start(false);
    agents.push(reader);
    const rows = await reader.db.run((m) => m.find(Postback));
    const inFlight = rows.filter((r) => r.state === 'in_flight');
    const pending = rows.filter((r) => r.state === 'pending');
    // The one being sent keeps its lease, marked as sending: it may have reached the tracker,
    // so its expired lease will count as an attempt.
    expect(inFlight).toHaveLength(1);
    if (database.kind === 'sqlite') {
      // One process per file: the mark goes to a journal beside it (see send-journal.ts).
      const journal = readFileSync(`${new URL(created.url).pathname}-sending`, 'utf8');
      expect(journal).toContain(`${inFlight[0].claimToken} ${inFlight[0].id} `);
    } else {
      expect(inFlight[0].sendingAt).toEqual(expect.any(Number));
    }
    expect(pending).toHaveLength(5);
    for (const row of pending) {
      expect(row).toMatchObject({
        attempts: 0,
        claimToken: null,
        leaseOwner: null,
        sendingAt: null,
      });
      expect(row.nextAttemptAt).toBeLessThanOrEqual(Date.now());
    }
  }, 30_000);
});
