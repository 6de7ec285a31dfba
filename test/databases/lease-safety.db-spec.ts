import request from 'supertest';

import { Postback } from '../../src/index.js';
import { FakeTracker, type ReceivedPostback } from '../../src/testing/index.js';
import { startAgent, type TestAgent, testTracker } from '../utils/agent.js';
import { describeEachDatabase, testDatabases } from '../utils/test-databases.js';
import { eventually } from '../utils/wait.js';

const servers = await testDatabases('servers'); // SQLite admits one process
const eventIdOf = (r: ReceivedPostback) => new URL(r.url, 'http://x').searchParams.get('pb_id');

/**
 * A claimed row waits in the flusher's queue until its tracker has a free slot; its lease runs
 * meanwhile. Were it sent after the lease ran out, another instance that had claimed it in
 * between would send it too: routine duplicates, not the crash-only kind.
 */
describeEachDatabase(servers, (database) => {
  let tracker: FakeTracker;
  let drop: () => Promise<void>;
  const agents: TestAgent[] = [];

  afterEach(async () => {
    for (const agent of agents.splice(0)) await agent.app.close();
    await tracker?.stop();
    await drop?.();
  });

  it('two instances with slow answers and short leases send every postback once', async () => {
    tracker = await new FakeTracker().start();
    tracker.setDefault({ status: 200, delayMs: 1_200 });
    const created = await database.create();
    drop = created.drop;
    const outbox = {
      flushIntervalMs: 100,
      concurrency: 2,
      batchSize: 10,
      timeoutMs: 1_500,
      leaseMs: 2_600,
    };
    for (let i = 0; i < 2; i++) {
      agents.push(
        await startAgent({
          databaseUrl: created.url,
          trackers: [testTracker(tracker.url())],
          outbox: { ...outbox, enabled: i === 1 },
        }),
      );
    }
    for (let i = 0; i < 12; i++) {
      await request(agents[0].server as never)
        .post('/v1/events')
        .send({
          type: 'purchase',
          orderId: `L-${i}`,
          amount: '1.00',
          currency: 'EUR',
          clickId: `c-${i}`,
        })
        .expect(202);
    }
    // Only now the first instance flushes too: both compete for the same backlog.
    await agents[0].app.get((await import('../../src/index.js')).OutboxFlusher).flush();
    await eventually(
      async () =>
        (await agents[0].db.run((m) => m.countBy(Postback, { state: 'delivered' }))) === 12,
      30_000,
      '12 delivered',
    );
    const ids = tracker.received.map(eventIdOf);
    expect(ids).toHaveLength(12);
    expect(new Set(ids).size).toBe(12);
  }, 45_000);
});
