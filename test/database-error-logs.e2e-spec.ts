import { Logger, type LoggerService } from '@nestjs/common';
import request from 'supertest';
import { DataSource } from 'typeorm';

import { startAgent, testTracker, type TestAgent } from './utils/agent.js';
import { tempDir } from './utils/sqlite.js';

/**
 * A statement the database refuses for a bug (here: a table dropped under the agent) is a
 * 500, and its log line names the failure without the statement's parameters: TypeORM's
 * QueryFailedError carries them (session keys, click IDs), and Nest would log the whole object.
 */
describe('a refused statement in the agent', () => {
  let dir: ReturnType<typeof tempDir>;
  let agent: TestAgent;
  const lines: string[] = [];

  beforeEach(async () => {
    dir = tempDir();
    agent = await startAgent({
      databaseUrl: `sqlite:${dir.path}/db.sqlite`,
      trackers: [testTracker('http://127.0.0.1:9/postback')],
      outbox: { enabled: false },
    });
    const keep = (...args: unknown[]) =>
      lines.push(args.map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join(' '));
    const logger: LoggerService = { log: keep, error: keep, warn: keep, fatal: keep };
    Logger.overrideLogger(logger);
  });
  afterEach(async () => {
    Logger.overrideLogger(false);
    await agent.app.close();
    dir.remove();
  });

  it('answers 500 and logs its reason without the parameters', async () => {
    await agent.app.get(DataSource).query('DROP TABLE "postback_clicks"');
    const answer = await request(agent.server as never)
      .post('/v1/clicks')
      .send({ tracker: 'network', clickId: 'CLICK-SECRET-1', sessionKey: 'SESSION-SECRET-1' });
    expect(answer.status).toBe(500);
    const logged = lines.join('\n');
    expect(logged).toMatch(/the database refused a statement: .*no such table/);
    expect(logged).not.toMatch(/SECRET/);
  });
});
