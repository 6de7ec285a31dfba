import { Logger, type LoggerService } from '@nestjs/common';
import request from 'supertest';
import { DataSource } from 'typeorm';

import { ConversionService, DatabaseUnavailableError } from '../../src/index.js';
import { FAST_OUTBOX, startAgent, testTracker, type TestAgent } from '../utils/agent.js';
import { TcpProxy } from '../utils/tcp-proxy.js';
import { describeEachDatabase, testDatabases } from '../utils/test-databases.js';
import { eventually, sleep } from '../utils/wait.js';

const servers = await testDatabases('servers');

/** Every line the app logs, with its level; stacks and extra arguments joined in. */
function captureLogs(): { lines: { level: string; text: string }[]; restore(): void } {
  const lines: { level: string; text: string }[] = [];
  const keep =
    (level: string) =>
    (...args: unknown[]) =>
      lines.push({
        level,
        text: args.map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join(' '),
      });
  const logger: LoggerService = {
    log: keep('log'),
    error: keep('error'),
    warn: keep('warn'),
    debug: keep('debug'),
    verbose: keep('verbose'),
    fatal: keep('fatal'),
  };
  Logger.overrideLogger(logger);
  return { lines, restore: () => Logger.overrideLogger(false) };
}

// Values that must never reach a log line: they travel as SQL parameters.
const secretEvent = (i: number) => ({
  type: 'purchase',
  orderId: `ORDER-SECRET-${i}`,
  amount: '10.00',
  currency: 'EUR',
  clickId: `CLICK-SECRET-${i}`,
  tracker: 'network',
  sessionKey: `SESSION-SECRET-${i}`,
});

/**
 * Loud, not noisy: a database server that goes away (here: a proxy in front of it is cut, the
 * shared server itself keeps running) gives one log line with the reason, 503 + Retry-After
 * to callers, /health failing until a write succeeds, and no SQL parameter in any log line.
 */
describeEachDatabase(servers, (database) => {
  let agent: TestAgent | undefined;
  let proxy: TcpProxy | undefined;
  let drop: () => Promise<void>;
  let logs: ReturnType<typeof captureLogs>;

  beforeEach(async () => {
    const scratch = await database.create();
    drop = scratch.drop;
    const target = TcpProxy.target(scratch.url);
    proxy = await TcpProxy.start(target.host, target.port);
    agent = await startAgent({
      databaseUrl: proxy.urlFor(scratch.url),
      trackers: [testTracker('http://127.0.0.1:9/postback')],
      outbox: FAST_OUTBOX, // the flusher polls every 50 ms, and fails each time meanwhile
    });
    logs = captureLogs();
  });
  afterEach(async () => {
    logs.restore();
    await proxy?.restore();
    await agent?.app.close();
    await proxy?.close();
    await drop();
  });

  it('an outage: one log line with the reason, 503 + Retry-After, /health failing until a write succeeds, no parameters logged', async () => {
    const { app, server } = agent as TestAgent;
    await proxy?.cut();

    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        request(server as never)
          .post('/v1/events')
          .send(secretEvent(i)),
      ),
    );
    for (const answer of answers) {
      expect(answer.status).toBe(503);
      expect(answer.headers['retry-after']).toBe('5');
      expect(answer.body).toMatchObject({
        statusCode: 503,
        reason: expect.stringMatching(/database server/),
      });
    }
    const forwardClick = () =>
      request(server as never)
        .post('/v1/clicks')
        .send({
          tracker: 'network',
          clickId: 'CLICK-SECRET-api',
          sessionKey: 'SESSION-SECRET-api',
        });
    // A forwarded click is refused, not held in memory: its caller keeps it and sends it again.
    const click = await forwardClick();
    expect(click.status).toBe(503);
    expect(click.headers['retry-after']).toBe('5');
    expect(click.body).toMatchObject({ statusCode: 503, reason: expect.any(String) });
    await expect(app.get(ConversionService).record(secretEvent(99))).rejects.toBeInstanceOf(
      DatabaseUnavailableError,
    );
    const health = await request(server as never).get('/health');
    expect(health.status).toBe(503);
    expect(health.body).toMatchObject({ database: 'failing' });
    // Several flusher rounds fail meanwhile, unlogged: the outage has its line already.
    await sleep(300);

    const errors = logs.lines.filter((l) => l.level === 'error' || l.level === 'fatal');
    expect(errors).toEqual([
      { level: 'error', text: expect.stringMatching(/cannot take writes: .*database server/) },
    ]);

    await proxy?.restore();
    // The pool finds its connections reset, then connects again.
    await eventually(
      async () =>
        (
          await request(server as never)
            .post('/v1/events')
            .send(secretEvent(100))
        ).status === 202,
      10_000,
      'an event accepted again',
    );
    expect((await request(server as never).get('/health')).status).toBe(200);
    expect(
      await app
        .get(DataSource)
        .query("SELECT 1 FROM postback_clicks WHERE click_id = 'CLICK-SECRET-api'"),
    ).toEqual([]);
    expect((await forwardClick()).status).toBe(200);
    expect(logs.lines.map((l) => l.text).join('\n')).toMatch(/takes writes again/);
    expect(logs.lines.map((l) => l.text).join('\n')).not.toMatch(/SECRET/);
  });
});
