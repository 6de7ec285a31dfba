import request from 'supertest';

import { startAgent, testTracker, type TestAgent } from '../utils/agent.js';
import { describeEachDatabase, testDatabases } from '../utils/test-databases.js';

const DAY_MS = 86_400_000;
const DAY_0 = Date.UTC(2026, 10, 1, 12);

/**
 * An explicit click ID is credited when any visitor's capture of it fits the event (README,
 * Attribution): several visitors can land with one click ID (a shared link), at other times.
 */
describeEachDatabase(await testDatabases(), (database) => {
  let agent: TestAgent;
  let drop: () => Promise<void>;
  let now = DAY_0;

  beforeEach(async () => {
    let url: string;
    ({ url, drop } = await database.create());
    now = DAY_0;
    agent = await startAgent({
      databaseUrl: url,
      // Two trackers: without `tracker` on the event, each one's window applies to its rows.
      trackers: [
        testTracker('http://127.0.0.1:9/pb', { attributionWindowDays: 30 }),
        testTracker('http://127.0.0.1:9/pb', {
          name: 'other',
          clickParams: ['ocid'],
          attributionWindowDays: 1,
        }),
      ],
      outbox: { enabled: false },
      clock: () => now,
    });
  });
  afterEach(async () => {
    await agent.app.close();
    await drop();
  });

  const landAt = async (day: number, sessionKey: string, param = 'cid') => {
    now = DAY_0 + day * DAY_MS;
    await request(agent.server as never)
      .post('/v1/clicks')
      .send({ landingUrl: `https://shop.example/?${param}=CLK`, sessionKey })
      .expect(200);
  };
  const purchase = (day: number, extra: Record<string, string> = {}) =>
    request(agent.server as never)
      .post('/v1/events')
      .send({
        type: 'purchase',
        orderId: `ORDER-${day}-${Object.keys(extra).join()}`,
        amount: '50.00',
        currency: 'EUR',
        clickId: 'CLK',
        occurredAt: new Date(DAY_0 + day * DAY_MS).toISOString(),
        ...extra,
      })
      .expect(202);

  it('is credited by the capture before the event when another visitor landed with it later', async () => {
    await landAt(0, 'visitor-a');
    await landAt(10, 'visitor-b');
    for (const extra of [{ tracker: 'network' }, {}] as Record<string, string>[]) {
      const response = await purchase(1, extra);
      expect(response.body).toMatchObject({ attribution: 'click_id', tracker: 'network' });
    }
  }, 30_000);

  it("applies each tracker's own window to its rows when the event names no tracker", async () => {
    // Tracker "other" (1-day window) saw CLK on day 0 only; "network" (30 days) on day 3.
    await landAt(0, 'visitor-a', 'ocid');
    await landAt(3, 'visitor-b');
    const response = await purchase(2);
    expect(response.body).toMatchObject({ attribution: 'none' });
    const inside = await purchase(0.5);
    expect(inside.body).toMatchObject({ attribution: 'click_id', tracker: 'other' });
  }, 30_000);
});
