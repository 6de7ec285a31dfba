import { Controller, type DynamicModule, Get, type INestApplication, Module } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
import { Test } from '@nestjs/testing';
import { TypeOrmModule } from '@nestjs/typeorm';
import request from 'supertest';
import { DataSource, type DataSourceOptions, In } from 'typeorm';

import {
  Click,
  Conversion,
  ConversionService,
  POSTBACK_ENTITIES,
  POSTBACK_MIGRATIONS,
  PostbackModule,
} from '../src/index.js';
import { postbackDataSourceOptions } from '../src/database/data-source-options.js';
import { DatabaseUnavailableError } from '../src/database/database-unavailable.error.js';
import { LOCK_PROBE_TIMEOUT_MS } from '../src/database/sqlite-lock-wait.js';
import { FakeTracker } from '../src/demo/fake-tracker.js';
import { startAgent, type TestAgent, testTracker } from './utils/agent.js';
import { eventually, tempDir } from './utils/sqlite.js';
import { type HeldLock, holdSqliteWriteLock, watchEventLoop } from './utils/sqlite-lock-holder.js';

const API_KEY = 'test-api-key-0123456789abcdef';
/** How long the other process holds the write lock. */
const LOCK_MS = 3_000;
/**
 * A held event loop shows as a gap between two ticks of a 10 ms interval as long as the
 * lock; a loop that waits asynchronously has none near it (generous, for a busy machine).
 */
const LONGEST_ACCEPTABLE_GAP_MS = 1_000;

interface Answer {
  status: number;
  body: Record<string, unknown>;
  /** Whether the other process still held the lock when the answer arrived. */
  duringLock: boolean;
}

/** Sends a request now and notes whether its answer came while the lock was held. */
function send(test: request.Test, lock: HeldLock): Promise<Answer> {
  return test.then((res) => ({ status: res.status, body: res.body, duringLock: lock.held }));
}

/**
 * Another process holds SQLite's write lock (`BEGIN IMMEDIATE` for 3 s): the event loop goes on
 * (no synchronous busy wait), landings and health checks are answered during it, forwarded
 * clicks are kept and stored after it, events wait for it asynchronously, up to the bound.
 */
describe('a SQLite write lock held by another process', () => {
  let dir: ReturnType<typeof tempDir>;
  beforeEach(() => (dir = tempDir()));
  afterEach(() => dir.remove());

  describe('the agent (writer thread on)', () => {
    let tracker: FakeTracker;
    let agent: TestAgent;
    const file = () => `${dir.path}/agent.sqlite`;
    const api = (method: 'get' | 'post', path: string) =>
      request(agent.server as never)
        [method](path)
        .set('authorization', `Bearer ${API_KEY}`);

    beforeEach(async () => {
      tracker = await new FakeTracker().start();
      agent = await startAgent({
        databaseUrl: `sqlite:${file()}`,
        trackers: [testTracker(tracker.url())],
        apiKey: API_KEY,
      });
    });
    afterEach(async () => {
      await agent.app.close();
      await tracker.stop();
    });

    it('keeps serving, stores every forwarded click after it and every event it accepted', async () => {
      // Before the lock: a click and an event, so the visitor's later purchases are attributed.
      await api('post', '/v1/clicks')
        .send({ tracker: 'network', clickId: 'before', sessionKey: 'buyer' })
        .expect(200);

      const lock = await holdSqliteWriteLock(file(), LOCK_MS);
      const loop = watchEventLoop();
      const clickIds = Array.from({ length: 20 }, (_, i) => `during-${i}`);
      const [clicks, events, health] = await Promise.all([
        Promise.all(
          clickIds.map((clickId, i) =>
            send(
              api('post', '/v1/clicks').send({
                tracker: 'network',
                clickId,
                sessionKey: `visitor-${i}`,
              }),
              lock,
            ),
          ),
        ),
        Promise.all(
          Array.from({ length: 10 }, (_, i) =>
            send(
              api('post', '/v1/events').send({
                type: 'purchase',
                orderId: `O-${i}`,
                amount: '10.00',
                currency: 'EUR',
                sessionKey: 'buyer',
              }),
              lock,
            ),
          ),
        ),
        Promise.all([0, 1, 2].map(() => send(request(agent.server as never).get('/health'), lock))),
      ]);
      await lock.released;
      expect(loop.stop()).toBeLessThan(LONGEST_ACCEPTABLE_GAP_MS);

      // Clicks: answered at once (kept in memory, not lost, not a 500), stored once it ends.
      for (const click of clicks) {
        expect(click).toMatchObject({ status: 202, duringLock: true });
      }
      expect(health.map((h) => [h.status, h.duringLock])).toEqual([
        [200, true],
        [200, true],
        [200, true],
      ]);
      await eventually(
        async () => (await agent.db.run((m) => m.countBy(Click, { clickId: In(clickIds) }))) === 20,
        10_000,
        'the clicks forwarded during the lock to be stored',
      );

      // Events: each one stored, or refused with 503 (nothing half-done, nothing silent).
      for (const event of events) expect([202, 503]).toContain(event.status);
      const accepted = events.filter((e) => e.status === 202).map((e) => e.body.conversionId);
      const stored = await agent.db.run((m) => m.find(Conversion, { select: { id: true } }));
      expect(stored.map((c) => c.id).sort()).toEqual([...accepted].sort());
    });
  });

  /** The DataSource's busy timeout: the module's bound for waiting out a lock. */
  const BUSY_TIMEOUT_MS = 1_000;
  const shopFile = () => `${dir.path}/shop.sqlite`;
  describe.each([
    {
      label: 'the host’s own DataSource',
      // As the README shows it, on SQLite: the host's DataSource, the module's tables in it.
      dataSource: (): DataSourceOptions => ({
        type: 'better-sqlite3',
        database: shopFile(),
        enableWAL: true,
        timeout: BUSY_TIMEOUT_MS,
        entities: [...POSTBACK_ENTITIES],
        migrations: [...POSTBACK_MIGRATIONS],
        migrationsRun: true,
      }),
      // The host's statements keep the host's timeout.
      busyTimeoutAfter: BUSY_TIMEOUT_MS,
    },
    {
      label: 'the module’s own DataSource',
      dataSource: () =>
        postbackDataSourceOptions({
          url: `sqlite:${shopFile()}`,
          sqliteBusyTimeoutMs: BUSY_TIMEOUT_MS,
        }),
      busyTimeoutAfter: LOCK_PROBE_TIMEOUT_MS,
    },
  ])(
    'the module on $label (writer thread off)',
    ({ dataSource: dataSourceOptions, busyTimeoutAfter }) => {
      let app: INestApplication;
      const file = shopFile;

      @Controller()
      class LandingController {
        @Get('landing')
        landing(): string {
          return 'welcome';
        }
      }

      function hostModule(): DynamicModule {
        @Module({})
        class HostModule {}
        return {
          module: HostModule,
          controllers: [LandingController],
          imports: [
            TypeOrmModule.forRoot({ ...dataSourceOptions(), retryAttempts: 0 }),
            ScheduleModule.forRoot(),
            PostbackModule.forRoot({
              trackers: [
                {
                  name: 'net',
                  clickParams: ['cid'],
                  postback: { url: 'http://127.0.0.1:9/pb?c={click_id}' },
                  commission: { purchase: { percent: '10' } },
                },
              ],
              capture: { visitorKey: (req) => req.header('x-visitor') },
              outbox: { enabled: false },
              sqliteWriterThread: false,
            }),
          ],
        };
      }

      beforeEach(async () => {
        const moduleRef = await Test.createTestingModule({ imports: [hostModule()] }).compile();
        app = moduleRef.createNestApplication({ logger: false });
        await app.init();
      });
      afterEach(() => app.close());

      it('refuses an event within the one bound while the landings’ clicks wait too', async () => {
        const conversions = app.get(ConversionService);
        // Longer than the event could wait even in three steps (clicks being written, clicks
        // queued behind them, then its own transaction), so it can only be refused.
        const lock = await holdSqliteWriteLock(file(), 4 * BUSY_TIMEOUT_MS);
        const land = (cid: string) =>
          request(app.getHttpServer()).get('/landing').set('x-visitor', cid).query({ cid });
        // One landing's click is being written (it waits out the lock), the next is queued.
        await land('first').expect(200);
        await new Promise((resolve) => setTimeout(resolve, 100));
        await land('second').expect(200);

        const started = performance.now();
        const failure = await conversions
          .record({ type: 'purchase', orderId: 'O-bound', amount: '1', currency: 'EUR' })
          .catch((error: unknown) => error);
        const waited = performance.now() - started;
        expect(lock.held).toBe(true);
        await lock.released;

        expect(failure).toBeInstanceOf(DatabaseUnavailableError);
        // The documented bound is the busy timeout, for the whole event. Not a speed figure:
        // waiting it once per step is 2-3 times the bound; the half bound of slack is for
        // timers late on a loaded machine.
        expect(waited).toBeLessThan(1.5 * BUSY_TIMEOUT_MS);
      });

      it('serves landings during it, stores their clicks after it, and bounds the events’ wait', async () => {
        const conversions = app.get(ConversionService);
        const dataSource = app.get(DataSource);
        await conversions.record({
          type: 'purchase',
          orderId: 'warm-up',
          amount: '1',
          currency: 'EUR',
        });

        const lock = await holdSqliteWriteLock(file(), LOCK_MS);
        const loop = watchEventLoop();
        const clickIds = Array.from({ length: 20 }, (_, i) => `landing-${i}`);
        const events = Array.from({ length: 5 }, (_, i) =>
          conversions
            .record({ type: 'purchase', orderId: `O-${i}`, amount: '10.00', currency: 'EUR' })
            .then(
              (result) => ({ stored: result.conversionId, duringLock: lock.held }),
              (error: unknown) => ({ error, duringLock: lock.held }),
            ),
        );
        const landings = await Promise.all(
          clickIds.map((cid, i) =>
            send(
              request(app.getHttpServer())
                .get('/landing')
                .set('x-visitor', `visitor-${i}`)
                .query({ cid }),
              lock,
            ),
          ),
        );
        const outcomes = await Promise.all(events);
        await lock.released;
        expect(loop.stop()).toBeLessThan(LONGEST_ACCEPTABLE_GAP_MS);

        for (const landing of landings)
          expect(landing).toMatchObject({ status: 200, duringLock: true });
        // Waited asynchronously up to the busy timeout, shorter than the lock: refused
        // while it was still held, with the error the agent answers 503 to. None was stored.
        for (const outcome of outcomes) {
          expect(outcome).toMatchObject({ duringLock: true });
          expect((outcome as { error?: unknown }).error).toBeInstanceOf(DatabaseUnavailableError);
        }
        expect(
          await dataSource
            .getRepository(Conversion)
            .countBy({ orderId: In(['O-0', 'O-1', 'O-2', 'O-3', 'O-4']) }),
        ).toBe(0);

        await eventually(
          async () =>
            (await dataSource.getRepository(Click).countBy({ clickId: In(clickIds) })) === 20,
          10_000,
          'the clicks of the landings during the lock to be stored',
        );
        // After the lock, events go through.
        await conversions.record({
          type: 'purchase',
          orderId: 'after',
          amount: '1',
          currency: 'EUR',
        });
        const connection = (
          dataSource.driver as unknown as {
            databaseConnection: { pragma(s: string, o: { simple: true }): unknown };
          }
        ).databaseConnection;
        expect(connection.pragma('busy_timeout', { simple: true })).toBe(busyTimeoutAfter);
      });
    },
  );
});
