import request from 'supertest';
import { DataSource } from 'typeorm';

import { startAgent, testTracker, type TestAgent } from './utils/agent.js';
import { tempDir } from './utils/sqlite.js';

/**
 * An idle agent on SQLite, once an outage ends: no event comes to change a row, so /health
 * itself tries a tiny write while failing, and says "up" as soon as one commits.
 */
describe('/health after a SQLite outage, with nothing else writing', () => {
  let dir: ReturnType<typeof tempDir>;
  let agent: TestAgent;

  beforeEach(async () => {
    dir = tempDir();
    agent = await startAgent({
      databaseUrl: `sqlite:${dir.path}/db.sqlite`,
      trackers: [testTracker('http://127.0.0.1:9/postback')],
      outbox: { enabled: false },
    });
  });
  afterEach(async () => {
    await agent.app.close();
    dir.remove();
  });

  it('stays failing while writes are refused, and is up again once they are not', async () => {
    const server = agent.server as never;
    const dataSource = agent.app.get(DataSource);
    await dataSource.query('PRAGMA query_only = ON');
    const event = await request(server)
      .post('/v1/events')
      .send({ type: 'purchase', orderId: 'O-1', amount: '1.00', currency: 'EUR' });
    expect(event.status).toBe(503);
    const failing = await request(server).get('/health');
    expect(failing.status).toBe(503);
    expect(failing.body).toMatchObject({
      database: 'failing',
      reason: expect.stringMatching(/read-only/),
    });

    await dataSource.query('PRAGMA query_only = OFF');
    const health = await request(server).get('/health');
    expect(health.status).toBe(200);
    expect(health.body).toMatchObject({ database: 'up' });
    // The probe left nothing behind.
    expect(
      await dataSource.query("SELECT name FROM sqlite_master WHERE name = 'postback_write_probe'"),
    ).toEqual([]);
  });
});
