import { In } from 'typeorm';

import type { OutboxOptions } from '../../src/interfaces/index.js';
import { DeliveryAttempt } from '../../src/outbox/delivery-attempt.entity.js';
import { Postback } from '../../src/outbox/postback.entity.js';
import { verifyPostbackSignature } from '../../src/postback/postback-signature.js';
import {
  countBy,
  databaseCounts,
  errorLines,
  Fleet,
  parse,
  settledPerHealth,
  TRACKER,
} from '../utils/agent-fleet.js';
import { liveAgentProcesses } from '../utils/agent-process.js';
import { seedPendingPostbacks } from '../utils/seed-outbox.js';
import { HMAC_SECRET } from '../utils/signing.js';
import {
  describeEachDatabase,
  type EngineKind,
  headingOf,
  testDatabases,
} from '../utils/test-databases.js';
import { sleep } from '../utils/wait.js';
import {
  attemptOutcomes,
  databaseOutage,
  deliveredWithoutA2xx,
  describeResends,
  drained,
  expectEveryKillMidFlush,
  expectOneEventIdPerOrder,
  FAST_RETRY,
  type Kill,
  killWhileSending,
  postgresAdmin,
  recordPurchases,
  seconds,
  summariseErrors,
} from './multi-process.steps.js';

/**
 * The built agent as separate operating-system processes on one database: killed with SIGKILL
 * in the middle of a flush, three of them draining one outbox, and the database going away
 * under a running agent. What a crash or a second instance does to the outbox can only be seen
 * across processes: in-process tests share one event loop, one pool and one clock.
 */

const databases = await testDatabases();

describe('agent processes', () => {
  describeEachDatabase(databases, (target) => {
    // A test that does not apply to an engine (three processes on SQLite, which admits one;
    // the outage, which uses PostgreSQL's ALLOW_CONNECTIONS) is not declared for it at all.
    const notDeclared = (() => undefined) as unknown as typeof it;
    const itOn = (...kinds: EngineKind[]) => (kinds.includes(target.kind) ? it : notDeclared);
    const heading =
      target.kind === 'sqlite' ? 'SQLite (a file, one agent process)' : headingOf(target);

    describe(heading, () => {
      const fleet = new Fleet(target);

      afterEach(() => fleet.cleanUp(), 60_000);

      afterAll(async () => {
        await fleet.cleanUp();
        expect(liveAgentProcesses()).toEqual([]);
      }, 60_000);

      it('SIGKILL during a flush, four times over: every order reaches the tracker with one event ID, nothing dead', async () => {
        const ORDERS = 200;
        const KILLS = 4;
        const LEASE_MS = 3_000;
        const ANSWER_MS = 150;
        const started = Date.now();
        const database = await fleet.createDatabase();
        const tracker = await fleet.startTracker();
        tracker.setDefault({ status: 200, body: 'OK', delayMs: ANSWER_MS });
        const outbox: OutboxOptions = {
          leaseMs: LEASE_MS,
          timeoutMs: 2_000,
          flushIntervalMs: 200,
          concurrency: 8,
          shutdownGraceMs: 2_000,
          retry: FAST_RETRY,
        };
        let agent = await fleet.startAgent('run-0', database.url, tracker, outbox);

        const orderIds = Array.from({ length: ORDERS }, (_, n) => `KILL-${n}`);
        const postbackOfOrder = await recordPurchases(agent, orderIds);
        const recordedAfter = Date.now() - started;

        // Kill the agent while it sends, restart it on the same database, again and again.
        const kills: Kill[] = [];
        for (let k = 1; k <= KILLS; k++) {
          kills.push(
            await killWhileSending(agent, tracker, { leaseMs: LEASE_MS, answerMs: ANSWER_MS }),
          );
          agent = await fleet.startAgent(`run-${k}`, database.url, tracker, outbox);
        }

        // The last incarnation runs until every row is delivered.
        const final = await settledPerHealth(agent, ORDERS, 'every postback to be delivered');
        console.info(
          `${target.label}: kills ${JSON.stringify(kills)}\n` +
            `recorded ${ORDERS} purchases after ${seconds(recordedAfter)}; all delivered after ${seconds(Date.now() - started)}`,
        );
        await agent.stop();
        expect({
          code: agent.exitCode,
          signal: agent.exitSignal,
          clean: agent.exitedCleanly,
        }).toMatchObject({ clean: true });

        // SQLite is one process per file: the test opens it only now that the agent has exited.
        const dataSource = await fleet.openDatabase(database.url);
        const rows = await dataSource.manager.find(Postback, {});
        const attempts = await dataSource.manager.find(DeliveryAttempt, {});
        const requests = tracker.received.map(parse);

        expectEveryKillMidFlush(kills, KILLS);

        // Nothing dead, everything delivered.
        expect(final).toMatchObject({ delivered: ORDERS, dead: 0 });
        expect(countBy(rows, (r) => r.state)).toEqual({ delivered: ORDERS });

        // Every order reached the tracker, always with its own event ID: as many IDs as orders.
        const byOrder = expectOneEventIdPerOrder(requests, postbackOfOrder);
        expect([...byOrder.keys()].sort()).toEqual([...orderIds].sort());
        for (const [orderId, sent] of byOrder) {
          expect(new Set(sent.map((r) => r.cid))).toEqual(new Set([`click-${orderId}`]));
        }
        expect(new Set(requests.map((r) => r.pbId)).size).toBe(ORDERS);
        // Every request, re-sends included, is signed for the receiver to verify.
        expect(
          requests
            .filter((r) => !verifyPostbackSignature({ secret: HMAC_SECRET, url: r.url }))
            .map((r) => r.url),
        ).toEqual([]);

        // Each delivered row has the attempt that delivered it: a 2xx, recorded.
        expect(deliveredWithoutA2xx(rows, attempts)).toEqual([]);

        // Re-sends are the price of a crash (at least once); count them.
        console.info(
          `${target.label}: ${requests.length} requests for ${ORDERS} orders, ${requests.length - ORDERS} re-sends ` +
            `(${describeResends(byOrder)}); requests per incarnation ${JSON.stringify(
              countBy(requests, (r) => r.path),
            )}; attempts recorded ${attempts.length}`,
        );
        expect(requests.length - ORDERS).toBe(
          [...byOrder.values()].reduce((sum, sent) => sum + sent.length - 1, 0),
        );
      }, 120_000);

      itOn('postgres', 'mariadb')(
        'three agent processes drain 10,000 postbacks from one database: each sent exactly once, by all three',
        async () => {
          const COUNT = 10_000;
          const database = await fleet.createDatabase();
          const tracker = await fleet.startTracker();
          const dataSource = await fleet.openDatabase(database.url);

          const seedStarted = Date.now();
          const postbackOfOrder = await seedPendingPostbacks(dataSource, {
            tracker: TRACKER,
            count: COUNT,
            prefix: 'BULK-',
          });
          const seedMs = Date.now() - seedStarted;
          expect(await databaseCounts(dataSource)).toMatchObject({ pending: COUNT });

          const outbox: OutboxOptions = {
            concurrency: 16,
            batchSize: 100,
            flushIntervalMs: 100,
            shutdownGraceMs: 2_000,
          };
          const bootStarted = Date.now();
          const agents = await Promise.all(
            ['agent-1', 'agent-2', 'agent-3'].map((name) =>
              fleet.startAgent(name, database.url, tracker, outbox),
            ),
          );
          const drainStarted = Date.now();
          const progress: string[] = [];
          const counts = await drained(dataSource, COUNT, progress);
          const drainMs = Date.now() - drainStarted;
          await sleep(500); // a late double send would show up here
          for (const agent of agents)
            expect({ agent: agent.name, running: agent.running }).toEqual({
              agent: agent.name,
              running: true,
            });
          await Promise.all(agents.map((agent) => agent.stop()));
          expect(agents.map((agent) => agent.exitedCleanly)).toEqual([true, true, true]);

          const requests = tracker.received.map(parse);
          const byPath = countBy(requests, (r) => r.path);
          console.info(
            `${target.label}: seeded ${COUNT} rows in ${seconds(seedMs)}, agents up in ${seconds(drainStarted - bootStarted)}, ` +
              `drained in ${seconds(drainMs)} (${Math.round(COUNT / (drainMs / 1000))}/s); sent per process ${JSON.stringify(byPath)}; ` +
              `progress ${progress.join(', ')}`,
          );

          expect(counts).toEqual({
            pending: 0,
            in_flight: 0,
            delivered: COUNT,
            dead: 0,
            cancelled: 0,
          });
          expect(requests).toHaveLength(COUNT);
          const pbIds = new Set(requests.map((r) => r.pbId));
          expect(pbIds.size).toBe(COUNT);
          expect(pbIds).toEqual(new Set(postbackOfOrder.values()));
          for (const r of requests.slice(0, 200))
            expect(r.pbId).toBe(postbackOfOrder.get(r.txid as string));
          expect(new Set(requests.map((r) => r.txid)).size).toBe(COUNT);

          // One attempt per row, delivered, and nothing logged as an error.
          expect(await attemptOutcomes(dataSource)).toEqual([
            { outcome: 'delivered', status: 200, n: COUNT },
          ]);
          expect(
            await dataSource.manager.countBy(Postback, { state: 'delivered', attempts: 1 }),
          ).toBe(COUNT);
          for (const agent of agents)
            expect({ agent: agent.name, errors: errorLines(agent) }).toEqual({
              agent: agent.name,
              errors: [],
            });

          // Each process took part: the path of a request names the process that rendered it.
          expect(Object.keys(byPath).sort()).toEqual([
            '/postback/agent-1',
            '/postback/agent-2',
            '/postback/agent-3',
          ]);
          for (const [path, n] of Object.entries(byPath))
            expect({ path, some: n > 0 }).toEqual({ path, some: true });
        },
        120_000,
      );

      itOn('postgres')(
        'the database refuses connections for 3 s during a flush: the agent keeps running, then delivers everything, each with a recorded 2xx',
        async () => {
          const COUNT = 300;
          const OUTAGE_MS = 3_000;
          const database = await fleet.createDatabase();
          const tracker = await fleet.startTracker();
          tracker.setDefault({ status: 200, body: 'OK', delayMs: 50 });
          const seeding = await fleet.openDatabase(database.url);
          const postbackOfOrder = await seedPendingPostbacks(seeding, {
            tracker: TRACKER,
            count: COUNT,
            prefix: 'OUTAGE-',
          });
          // The outage terminates every connection to the database: the test's own too.
          await seeding.destroy();

          const agent = await fleet.startAgent('outage', database.url, tracker, {
            leaseMs: 3_000,
            timeoutMs: 2_000,
            flushIntervalMs: 200,
            concurrency: 8,
            shutdownGraceMs: 2_000,
            retry: FAST_RETRY,
          });
          // From the server's `test` database: only the scratch database goes away.
          const admin = await postgresAdmin(fleet, target.server!, database);

          await tracker.waitForRequests(40, 20_000); // mid-flush
          const sentBeforeOutage = tracker.received.length;
          const { terminated, healthDuringOutage } = await databaseOutage(
            admin,
            database,
            agent,
            OUTAGE_MS,
          );
          const sentDuringOutage = tracker.received.length - sentBeforeOutage;
          const aliveAfterOutage = agent.running;

          const final = await settledPerHealth(
            agent,
            COUNT,
            'every postback to be delivered after the outage',
          );
          const errors = errorLines(agent);
          console.info(
            `${target.label} outage: ${terminated} connection(s) terminated after ${sentBeforeOutage} requests; ` +
              `${sentDuringOutage} requests during the outage; /health during it: ${healthDuringOutage}; ` +
              `${tracker.received.length} requests in all for ${COUNT} postbacks; agent logged ${errors.length} ERROR lines:\n` +
              summariseErrors(errors),
          );

          // The agent outlived the outage (a dead agent would be a bug: it must wait it out).
          expect({
            aliveAfterOutage,
            exited: 'exited' in final,
            exitCode: agent.exitCode,
            signal: agent.exitSignal,
          }).toEqual({
            aliveAfterOutage: true,
            exited: false,
            exitCode: null,
            signal: null,
          });
          expect(terminated).toBeGreaterThan(0);
          // Readiness told the truth meanwhile: the database was down.
          expect(healthDuringOutage).toBe(503);
          expect(final).toMatchObject({ delivered: COUNT, dead: 0 });
          await agent.stop();
          expect(agent.exitedCleanly).toBe(true);

          const dataSource = await fleet.openDatabase(database.url);
          const rows = await dataSource.manager.findBy(Postback, {
            id: In([...postbackOfOrder.values()]),
          });
          expect(countBy(rows, (r) => r.state)).toEqual({ delivered: COUNT });
          // Delivered only on a recorded 2xx: every delivered row has its delivering attempt.
          const attempts = await dataSource.manager.find(DeliveryAttempt, {});
          expect(deliveredWithoutA2xx(rows, attempts)).toEqual([]);
          expect(rows.every((r) => r.deliveredAt !== null && r.lastStatus === 200)).toBe(true);

          // Every order reached the tracker, with its one event ID.
          const requests = tracker.received.map(parse);
          const byOrder = expectOneEventIdPerOrder(requests, postbackOfOrder);
          expect(byOrder.size).toBe(COUNT);
          console.info(
            `${target.label} outage: ${requests.length - COUNT} re-sends, ${attempts.length} attempts recorded`,
          );
        },
        120_000,
      );
    });
  });
});
