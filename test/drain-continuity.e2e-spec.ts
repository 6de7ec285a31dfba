import request from 'supertest';

import { Postback } from '../src/index.js';
import { FakeTracker } from '../src/testing/index.js';
import { startAgent, type TestAgent, testTracker } from './utils/agent.js';
import { tempDir } from './utils/sqlite.js';
import { eventually } from './utils/wait.js';

describe('a drain keeps going while trackers wait for slots', () => {
  let trackers: FakeTracker[];
  let agent: TestAgent;
  let dir: ReturnType<typeof tempDir>;

  const start = (enabled: boolean) =>
    startAgent({
      databaseUrl: `sqlite:${dir.path}/drain.sqlite`,
      trackers: [
        testTracker(trackers[0].url(), { name: 'one', clickParams: ['a'] }),
        testTracker(trackers[1].url(), { name: 'two', clickParams: ['b'] }),
      ],
      // The schedule cannot help within the test: only the start-up flush can deliver.
      outbox: { enabled, flushIntervalMs: 60_000, concurrency: 4, batchSize: 50 },
    });

  beforeEach(async () => {
    trackers = [await new FakeTracker().start(), await new FakeTracker().start()];
    for (const t of trackers) t.setDefault({ status: 200, delayMs: 5 });
    dir = tempDir();
  });
  afterEach(async () => {
    await agent.app.close();
    for (const t of trackers) await t.stop();
    dir.remove();
  });

  it('delivers a backlog for one of two trackers in the one flush at start-up', async () => {
    // A backlog, as after an outage or a restart: recorded while nothing was sending.
    agent = await start(false);
    // All of it for one of the two trackers, which may use only half of the slots.
    for (let i = 0; i < 300; i++) {
      await request(agent.server as never)
        .post('/v1/events')
        .send({
          type: 'purchase',
          orderId: `one-${i}`,
          amount: '1.00',
          currency: 'EUR',
          clickId: `c-${i}`,
          tracker: 'one',
        })
        .expect(202);
    }
    await agent.app.close();

    agent = await start(true);
    await eventually(
      async () => (await agent.db.run((m) => m.countBy(Postback, { state: 'delivered' }))) === 300,
      15_000,
      '300 delivered without a scheduled flush',
    );
    expect(trackers.map((t) => t.received.length)).toEqual([300, 0]);
  }, 30_000);
});
