import type { INestApplication } from '@nestjs/common';
import Database from 'better-sqlite3';
import request from 'supertest';
import { DataSource } from 'typeorm';

import { createAgentApp } from '../src/agent/agent.app.js';
import { loadAgentEnv } from '../src/agent/agent-env.js';
import { FakeTracker } from '../src/testing/index.js';
import { PostbackDatabase } from '../src/database/postback-database.js';
import { ConversionService, DatabaseUnavailableError } from '../src/index.js';
import { FAST_OUTBOX, testTracker } from './utils/agent.js';
import { HMAC_SECRET } from './utils/signing.js';
import { startAgentProcess, stopAllAgentProcesses, TEST_API_KEY } from './utils/agent-process.js';
import {
  type FailingDisk,
  loopDeviceUnavailable,
  shrinkingExt4,
  smallTmpfs,
  tmpfsUnavailable,
} from './utils/failing-disks.js';
import { tempDir } from './utils/sqlite.js';
import { eventually } from './utils/wait.js';

/**
 * Acknowledged means committed: a SQLite database that cannot write (full, failing disk)
 * refuses events with DatabaseUnavailableError (503 + Retry-After on the agent), leaves no
 * transaction open on its connection, and every event it did acknowledge is in the file, for
 * another connection and after a kill -9; no postback goes out for one that is not.
 */

const tracker = new FakeTracker();
beforeAll(() => tracker.start());
afterAll(() => tracker.stop());
beforeEach(() => (tracker.received.length = 0));
afterEach(() => stopAllAgentProcesses());

const purchase = (orderId: string) => ({
  type: 'purchase',
  orderId,
  amount: '10.00',
  currency: 'EUR',
  clickId: `C-${orderId}`,
  tracker: 'network',
});

interface Module {
  app: INestApplication;
  conversions: ConversionService;
  dataSource: DataSource;
}

async function startModule(
  file: string,
  settings: { writerThread: boolean; outbox?: boolean },
): Promise<Module> {
  const app = await createAgentApp(
    loadAgentEnv({ DATABASE_URL: `sqlite:${file}` }),
    {
      trackers: [testTracker(tracker.url('/postback'))],
      outbox: settings.outbox ? FAST_OUTBOX : { enabled: false },
      sqliteWriterThread: settings.writerThread,
    },
    false,
  );
  await app.init();
  return { app, conversions: app.get(ConversionService), dataSource: app.get(DataSource) };
}

/** Records each order, in waves of concurrent events; returns the acknowledged ones. */
async function recordAll(
  module: Module,
  orderIds: string[],
  refused: unknown[] = [],
): Promise<string[]> {
  const acknowledged: string[] = [];
  for (let i = 0; i < orderIds.length; i += 10) {
    const wave = orderIds.slice(i, i + 10);
    const outcomes = await Promise.allSettled(
      wave.map((id) => module.conversions.record(purchase(id))),
    );
    outcomes.forEach((outcome, k) => {
      if (outcome.status === 'fulfilled') acknowledged.push(wave[k]);
      else refused.push(outcome.reason);
    });
  }
  return acknowledged;
}

/** The order IDs committed to the file, as another connection sees them. */
function committedOrders(file: string): string[] {
  const other = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return (
      other.prepare('SELECT order_id FROM postback_conversions').pluck().all() as string[]
    ).sort();
  } finally {
    other.close();
  }
}

/** The order IDs the tracker received postbacks for (each once, whatever the re-sends). */
function sentOrders(): string[] {
  const ids = tracker.received.map((r) => new URL(r.url, 'http://x').searchParams.get('txid'));
  return [...new Set(ids as string[])].sort();
}

/** Neither SQLite nor TypeORM holds a transaction open on the module's connection. */
function expectNoTransactionOpen(dataSource: DataSource): void {
  const driver = dataSource.driver as unknown as {
    databaseConnection: { inTransaction: boolean };
    queryRunner?: { isTransactionActive: boolean };
  };
  expect(driver.databaseConnection.inTransaction).toBe(false);
  expect(driver.queryRunner?.isTransactionActive ?? false).toBe(false);
}

const ids = (prefix: string, count: number) =>
  Array.from({ length: count }, (_, i) => `${prefix}-${i}`);

describe.each([
  ['writer thread off', false],
  ['writer thread on', true],
])('a full SQLite database (PRAGMA max_page_count), %s', (_label, writerThread) => {
  let dir: ReturnType<typeof tempDir>;
  let module: Module;
  beforeEach(async () => {
    dir = tempDir();
    module = await startModule(`${dir.path}/db.sqlite`, { writerThread });
  });
  afterEach(async () => {
    await module.app.close();
    dir.remove();
  });

  it('refuses with DatabaseUnavailableError and 503, reports it in /health, and takes writes again once there is room', async () => {
    const file = `${dir.path}/db.sqlite`;
    const before = await recordAll(module, ids('before', 5));
    expect(before).toHaveLength(5);
    const [{ page_count: pages }] = await module.dataSource.query('PRAGMA page_count');
    await module.dataSource.query(`PRAGMA max_page_count = ${pages}`);

    const refused: unknown[] = [];
    const during = await recordAll(module, ids('full', 60), refused);
    expect(refused.length).toBeGreaterThan(0);
    for (const error of refused) {
      expect(error).toBeInstanceOf(DatabaseUnavailableError);
      expect((error as DatabaseUnavailableError).reason).toMatch(/full \(SQLITE_FULL\)/);
    }
    expectNoTransactionOpen(module.dataSource);
    expect(committedOrders(file)).toEqual([...before, ...during].sort());

    // A row may still fit in a page's free space: post until one is refused, then ask /health
    // (nothing else writes meanwhile: the outbox is off).
    const server = module.app.getHttpServer();
    let event: request.Response | undefined;
    for (let i = 0; i < 20 && event?.status !== 503; i++) {
      event = await request(server)
        .post('/v1/events')
        .send(purchase(`http-${i}`));
      if (event.status === 202) during.push(`http-${i}`);
    }
    expect(event?.status).toBe(503);
    expect(event?.headers['retry-after']).toBe('5');
    expect(event?.body).toMatchObject({ statusCode: 503, reason: expect.stringMatching(/full/) });
    const health = await request(server).get('/health');
    expect(health.status).toBe(503);
    expect(health.body).toMatchObject({
      database: 'failing',
      reason: expect.stringMatching(/full/),
    });

    await module.dataSource.query('PRAGMA max_page_count = 1073741823');
    const after = await recordAll(module, ids('after', 5));
    expect(after).toHaveLength(5);
    expect((await request(server).get('/health')).status).toBe(200);
    expectNoTransactionOpen(module.dataSource);
    expect(committedOrders(file)).toEqual([...before, ...during, ...after].sort());
  });

  it('is up again by itself once there is room, with no /health call and no write of its own', async () => {
    // A host app without the agent's /health route, idle once the outage ends.
    const [{ page_count: pages }] = await module.dataSource.query('PRAGMA page_count');
    await module.dataSource.query(`PRAGMA max_page_count = ${pages}`);
    const refused: unknown[] = [];
    for (let i = 0; i < 20 && refused.length === 0; i++) {
      await recordAll(module, ids(`full-${i}`, 20), refused);
    }
    const health = module.app.get(PostbackDatabase).writeHealth;
    expect(health.failure).toMatchObject({ reason: expect.stringMatching(/full/) });

    await module.dataSource.query('PRAGMA max_page_count = 1073741823');
    // The module probes every Retry-After (5 s) while failing.
    await eventually(() => health.failure === undefined, 8_000, 'the failure cleared');
  }, 15_000);
});

/** One block of real-disk tests; skipped, with the reason printed, where the disk cannot be had. */
function describeOnDisk(title: string, unavailable: string | undefined, body: () => void): void {
  if (unavailable) {
    console.log(`Skipping "${title}": ${unavailable}`);
    return;
  }
  describe(title, body);
}

describeOnDisk('a full file system (a 2 MB tmpfs)', tmpfsUnavailable(), () => {
  let disk: FailingDisk;
  beforeEach(() => (disk = smallTmpfs(2 * 1024 * 1024)));
  afterEach(() => disk.remove());

  it.each([
    ['writer thread off', false],
    ['writer thread on', true],
  ])(
    'acknowledges only what it committed, and sends postbacks only for that (%s)',
    async (_label, writerThread) => {
      const file = `${disk.dir}/db.sqlite`;
      const module = await startModule(file, { writerThread, outbox: true });
      try {
        const before = await recordAll(module, ids('before', 5));
        disk.fail();
        const refused: unknown[] = [];
        const during = await recordAll(module, ids('full', 60), refused);
        expect(refused.length).toBeGreaterThan(0);
        for (const error of refused) expect(error).toBeInstanceOf(DatabaseUnavailableError);
        expectNoTransactionOpen(module.dataSource);
        expect(committedOrders(file)).toEqual([...before, ...during].sort());

        disk.repair();
        const after = await recordAll(module, ids('after', 5));
        expect(after).toHaveLength(5);
        const committed = [...before, ...during, ...after].sort();
        expect(committedOrders(file)).toEqual(committed);
        await tracker.waitForRequests(committed.length);
        await module.app.close();
        const sent = tracker.received.map((r) =>
          new URL(r.url, 'http://x').searchParams.get('txid'),
        );
        expect([...new Set(sent)].sort()).toEqual(committed);
      } finally {
        await module.app.close();
      }
    },
  );

  it('the agent answers 503 + Retry-After while the disk is full; after kill -9 every 202 is there, and no postback went out for anything else', async () => {
    const file = `${disk.dir}/db.sqlite`;
    const settings = {
      databaseUrl: `sqlite:${file}`,
      config: {
        trackers: [
          {
            ...testTracker(tracker.url('/postback')),
            signing: { type: 'hmac', secretEnv: 'NETWORK_SECRET' },
          },
        ],
        outbox: FAST_OUTBOX,
      },
      env: { NETWORK_SECRET: HMAC_SECRET },
    } as Parameters<typeof startAgentProcess>[0];
    const agent = await startAgentProcess(settings);
    const accepted: string[] = [];
    const post = async (orderIds: string[]) => {
      const answers = await Promise.all(
        orderIds.map((id) => agent.post('/v1/events', purchase(id)).then((r) => [id, r] as const)),
      );
      for (const [id, answer] of answers) {
        if (answer.status === 202) accepted.push(id);
        else {
          expect(answer).toMatchObject({
            status: 503,
            body: { reason: expect.stringMatching(/full/) },
          });
        }
      }
      return answers;
    };
    await post(ids('before', 5));
    disk.fail();
    const during = await post(ids('full', 40));
    expect(during.some(([, answer]) => answer.status === 503)).toBe(true);
    // Right after each refusal /health says the database is failing, unless a write of the
    // flusher's happened to commit in between (the WAL's free space can take one).
    const healthAfterRefusals: number[] = [];
    for (let i = 0; i < 10; i++) {
      const answer = await fetch(`${agent.url}/v1/events`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TEST_API_KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify(purchase(`probe-${i}`)),
      });
      if (answer.status === 202) {
        accepted.push(`probe-${i}`);
        continue;
      }
      expect(answer.status).toBe(503);
      expect(answer.headers.get('retry-after')).toBe('5');
      const health = await agent.get<{ database: string }>('/health');
      healthAfterRefusals.push(health.status);
      if (health.status !== 200) expect(health.body.database).toBe('failing');
    }
    expect(healthAfterRefusals).toContain(503);

    disk.repair();
    await post(ids('after', 5));
    expect((await agent.get('/health')).status).toBe(200);
    // One line for the outage, not a stack trace per refused request.
    expect(agent.logs.match(/cannot take writes/g)).toHaveLength(1);
    expect(agent.logs).not.toMatch(/\n\s+at /);
    await agent.kill('SIGKILL');

    expect(committedOrders(file)).toEqual([...accepted].sort());
    const restarted = await startAgentProcess(settings);
    await eventually(() => sentOrders().length >= accepted.length, 15_000, 'the postbacks');
    await restarted.stop();
    expect(sentOrders()).toEqual([...accepted].sort());
  }, 60_000);
});

describeOnDisk(
  'an I/O error (a loop device shrunk under its ext4)',
  loopDeviceUnavailable(),
  () => {
    let disk: FailingDisk;
    beforeEach(() => (disk = shrinkingExt4()));
    afterEach(() => disk.remove());

    it.each([
      ['writer thread off', false],
      ['writer thread on', true],
    ])(
      'refuses with DatabaseUnavailableError and leaves no transaction open (%s)',
      async (_label, writerThread) => {
        const file = `${disk.dir}/db.sqlite`;
        const module = await startModule(file, { writerThread });
        try {
          const before = await recordAll(module, ids('before', 5));
          expect(before).toHaveLength(5);
          disk.fail();
          const refused: unknown[] = [];
          const during = await recordAll(module, ids('eio', 30), refused);
          expect(during).toEqual([]);
          for (const error of refused) {
            expect(error).toBeInstanceOf(DatabaseUnavailableError);
            expect((error as DatabaseUnavailableError).reason).toMatch(/SQLITE_IOERR/);
          }
          expectNoTransactionOpen(module.dataSource);
          expect((await request(module.app.getHttpServer()).get('/health')).status).toBe(503);
        } finally {
          await module.app.close();
        }
      },
    );
  },
);
