import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { type EntityManager, In } from 'typeorm';

import {
  Click,
  Conversion,
  ConversionService,
  DeliveryAttempt,
  Postback,
  type PostbackFields,
  type PostbackModuleOptions,
  type RecordResult,
  verifyPostbackSignature,
} from '../../src/index.js';
import { FakeTracker, type ReceivedPostback } from '../../src/testing/index.js';
import { PostbackDatabase } from '../../src/database/postback-database.js';
import { OutboxStore } from '../../src/outbox/outbox.store.js';
import { startShopApp } from '../fixtures/shop-app.js';
import { claimDue } from '../utils/outbox-store.js';
import { inspectSchema, type ScratchDatabase } from '../utils/db-servers.js';
import { eventually, sleep } from '../utils/wait.js';
import { HMAC_SECRET } from '../utils/signing.js';
import { describeEachDatabase, headingOf, testDatabases } from '../utils/test-databases.js';

// Everything a click ID could hold that would break a naively built URL or a narrow charset.
const HOSTILE_CLICK_ID = 'a&b=c#d e+f%20?x=/é😀';

const TABLES = [
  'postback_attempts',
  'postback_clicks',
  'postback_conversions',
  'postback_meta',
  'postback_outbox',
];
const INDEXES: Record<string, { table: string; unique: boolean; columns: string[] }> = {
  UQ_postback_clicks_tracker_click_visitor: {
    table: 'postback_clicks',
    unique: true,
    columns: ['tracker', 'click_id', 'visitor_key'],
  },
  IDX_postback_clicks_visitor_seen: {
    table: 'postback_clicks',
    unique: false,
    columns: ['visitor_key', 'last_seen_at'],
  },
  IDX_postback_clicks_customer_seen: {
    table: 'postback_clicks',
    unique: false,
    columns: ['customer_id', 'last_seen_at'],
  },
  UQ_postback_conversions_type_reference: {
    table: 'postback_conversions',
    unique: true,
    columns: ['type', 'reference'],
  },
  IDX_postback_conversions_customer: {
    table: 'postback_conversions',
    unique: false,
    columns: ['customer_id'],
  },
  IDX_postback_outbox_state_due: {
    table: 'postback_outbox',
    unique: false,
    columns: ['state', 'next_attempt_at'],
  },
  UQ_postback_outbox_conversion_tracker: {
    table: 'postback_outbox',
    unique: true,
    columns: ['conversion_id', 'tracker'],
  },
  IDX_postback_attempts_postback_started: {
    table: 'postback_attempts',
    unique: false,
    columns: ['postback_id', 'started_at'],
  },
};
const TIME_COLUMNS = [
  ['postback_clicks', 'first_seen_at'],
  ['postback_clicks', 'last_seen_at'],
  ['postback_conversions', 'occurred_at'],
  ['postback_conversions', 'created_at'],
  ['postback_outbox', 'next_attempt_at'],
  ['postback_outbox', 'delivered_at'],
  ['postback_outbox', 'created_at'],
  ['postback_outbox', 'updated_at'],
  ['postback_attempts', 'started_at'],
];

function trackerOptions(tracker: FakeTracker): PostbackModuleOptions['trackers'][number] {
  return {
    name: 'voluum',
    clickParams: ['cid'],
    subParams: ['sub1'],
    postback: {
      url: `${tracker.url('/postback')}?cid={click_id}&payout={payout}&txid={order_id}&currency={payout_currency}&s1={sub.sub1}`,
    },
    events: ['purchase'],
    commission: { purchase: { percent: '7.5' } },
    signing: { type: 'hmac', secret: HMAC_SECRET },
  };
}

const queryOf = (received: ReceivedPostback) => new URL(received.url, 'http://x').searchParams;
/**
 * The manager as given, except that `update` first reports that it was reached and then
 * waits for `gate`: pauses a claim between its SELECT … FOR UPDATE and its UPDATE.
 */
function pausingBeforeUpdate(
  manager: EntityManager,
  reached: () => void,
  gate: Promise<void>,
): EntityManager {
  return new Proxy(manager, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property, target);
      if (property === 'update') {
        return async (...args: unknown[]) => {
          reached();
          await gate;
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      }
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

// Probed before any suite is declared, so an engine's tests are selected (or skipped) at runtime.
const servers = await testDatabases('servers');

describeEachDatabase(servers, (database) => {
  const { engine } = database.server!;

  describe(headingOf(database), () => {
    let scratch: ScratchDatabase | undefined;
    const cleanups: (() => Promise<unknown>)[] = [];

    async function runCleanups(): Promise<void> {
      // Last started, first stopped: apps close before the tracker they post to and
      // before the database of their own (if any) is dropped.
      while (cleanups.length > 0) {
        const cleanup = cleanups.pop() as () => Promise<unknown>;
        await cleanup().catch((error: Error) =>
          console.error(`${database.label} test cleanup failed: ${error.stack ?? error.message}`),
        );
      }
    }

    async function startTracker(): Promise<FakeTracker> {
      const tracker = await new FakeTracker().start();
      cleanups.push(() => tracker.stop());
      return tracker;
    }

    async function boot(
      tracker: FakeTracker,
      on = scratch,
      outbox: PostbackModuleOptions['outbox'] = {},
    ): Promise<INestApplication> {
      if (!on) throw new Error(`no ${database.label} database to boot on`);
      const app = await startShopApp({
        databaseUrl: on.url,
        options: {
          trackers: [trackerOptions(tracker)],
          outbox: { flushIntervalMs: 50, ...outbox },
        },
      });
      cleanups.push(() => app.close());
      return app;
    }

    beforeAll(async () => {
      scratch = await database.create();
    }, 20_000);

    afterEach(runCleanups, 30_000);

    afterAll(async () => {
      await runCleanups();
      await scratch?.drop();
    }, 30_000);

    it('migrations create the four tables, their named indexes and BIGINT time columns', async () => {
      const tracker = await startTracker();
      const app = await boot(tracker);
      const dataSource = app.get(PostbackDatabase).dataSource;
      const schema = await inspectSchema(engine, (sql) => dataSource.query(sql));

      expect(schema.tables).toEqual([...TABLES, 'postback_migrations'].sort());
      for (const [name, expected] of Object.entries(INDEXES)) {
        expect({ name, ...schema.indexes.get(name) }).toEqual({
          name,
          ...expected,
        });
      }
      for (const [table, column] of TIME_COLUMNS) {
        const found = schema.columns.find((c) => c.table === table && c.column === column);
        expect({ table, column, type: found?.dataType }).toEqual({
          table,
          column,
          type: 'bigint',
        });
      }
      const migrations = () => dataSource.query('SELECT name FROM postback_migrations');
      // Lookups by click ID go through the unique index: the click_id index is gone.
      expect(schema.indexes.has('IDX_postback_clicks_click_id')).toBe(false);
      const applied = await migrations();
      expect(applied).toEqual([
        { name: 'CreatePostbackTables1764000000000' },
        { name: 'DropClickIdIndex1764200000000' },
        { name: 'RegistrationPerCustomer1764300000000' },
        { name: 'HashVisitorKeys1764400000000' },
        { name: 'CountLostClaims1764500000000' },
      ]);

      // A second instance on the migrated database starts cleanly and migrates nothing again.
      await boot(tracker);
      expect(await migrations()).toEqual(applied);
    }, 30_000);

    it('delivers one signed postback with the hostile click ID byte-identical, from a purchase in another session', async () => {
      const tracker = await startTracker();
      const app = await boot(tracker);
      const db = app.get(PostbackDatabase);

      const landingVisitor = request.agent(app.getHttpServer());
      await landingVisitor
        .get('/landing')
        .query({ cid: HOSTILE_CLICK_ID, sub1: 'banner&top' })
        .expect(200, 'welcome');
      await landingVisitor.post('/register').send({ customerId: 'cust-1' }).expect(200);

      // Cookies gone, another device: only the customer ID links the purchase to the click.
      const purchase = await request(app.getHttpServer())
        .post('/checkout')
        .send({
          orderId: 'ORDER-1',
          amount: '59.97',
          currency: 'EUR',
          customerId: 'cust-1',
        })
        .expect(200);
      expect(purchase.body).toMatchObject({
        duplicate: false,
        attributed: true,
        attribution: 'customer',
        tracker: 'voluum',
        queued: true,
        commission: { amount: '4.50', currency: 'EUR' },
      });

      const [received] = await tracker.waitForRequests(1);
      const query = queryOf(received);
      expect(query.get('cid')).toBe(HOSTILE_CLICK_ID);
      expect(Buffer.from(query.get('cid') as string)).toEqual(Buffer.from(HOSTILE_CLICK_ID));
      expect(query.get('payout')).toBe('4.50'); // 59.97 × 7.5 % = 4.49775, half up
      expect(query.get('txid')).toBe('ORDER-1');
      expect(query.get('currency')).toBe('EUR');
      expect(query.get('s1')).toBe('banner&top');
      expect(query.get('pb_id')).toBe(purchase.body.postbackId);
      expect(verifyPostbackSignature({ secret: HMAC_SECRET, url: received.url })).toBe(true);

      const delivered = await eventually(
        () =>
          db.run((m) =>
            m.findOneBy(Postback, {
              id: purchase.body.postbackId,
              state: 'delivered',
            }),
          ),
        5_000,
        'the postback to be marked delivered',
      );
      expect(typeof delivered.deliveredAt).toBe('number');
      expect(typeof delivered.nextAttemptAt).toBe('number');
      expect(typeof delivered.createdAt).toBe('number');
      expect(typeof delivered.updatedAt).toBe('number');
      expect(delivered.deliveredAt).toBeGreaterThanOrEqual(delivered.createdAt);
      expect(delivered).toMatchObject({
        attempts: 1,
        lastStatus: 200,
        leaseOwner: null,
        claimToken: null,
      });
      expect(delivered.fields.clickId).toBe(HOSTILE_CLICK_ID);

      // The stored rows keep the click ID intact too (a 3-byte charset would mangle the emoji).
      const click = await db.run((m) => m.findOneByOrFail(Click, { clickId: HOSTILE_CLICK_ID }));
      expect(click).toMatchObject({
        customerId: 'cust-1',
        subParams: { sub1: 'banner&top' },
      });
      expect(typeof click.lastSeenAt).toBe('number');
      const order = await db.run((m) => m.findOneByOrFail(Conversion, { reference: 'ORDER-1' }));
      expect(order).toMatchObject({
        clickId: HOSTILE_CLICK_ID,
        commission: '4.50',
        attribution: 'customer',
      });
      const attempts = await db.run((m) => m.findBy(DeliveryAttempt, { postbackId: delivered.id }));
      expect(attempts).toEqual([
        expect.objectContaining({
          attempt: 1,
          outcome: 'delivered',
          statusCode: 200,
        }),
      ]);

      // Only the purchase is posted; the registration is recorded all the same.
      await sleep(200);
      expect(tracker.received).toHaveLength(1);
      expect(await db.run((m) => m.countBy(Conversion, { customerId: 'cust-1' }))).toBe(2);
    }, 30_000);

    it('records 10 concurrent reports of one purchase once: one row, one outbox entry, one postback', async () => {
      const tracker = await startTracker();
      const app = await boot(tracker);
      const db = app.get(PostbackDatabase);
      const conversions = app.get(ConversionService);

      const settled = await Promise.allSettled(
        Array.from({ length: 10 }, () =>
          conversions.record({
            type: 'purchase',
            orderId: 'RACE-1',
            amount: '100.00',
            currency: 'EUR',
            clickId: 'race-click-1',
          }),
        ),
      );
      const failures = settled.filter((s) => s.status === 'rejected');
      expect(failures.map((f) => String((f as PromiseRejectedResult).reason))).toEqual([]);
      const results = settled.map((s) => (s as PromiseFulfilledResult<RecordResult>).value);

      expect(results.filter((r) => !r.duplicate)).toHaveLength(1);
      expect(results.filter((r) => r.duplicate)).toHaveLength(9);
      const [first] = results;
      expect(new Set(results.map((r) => r.conversionId))).toEqual(new Set([first.conversionId]));
      expect(new Set(results.map((r) => r.postbackId))).toEqual(new Set([first.postbackId]));
      for (const result of results) {
        expect(result).toMatchObject({
          attributed: true,
          attribution: 'click_id',
          queued: true,
          commission: { amount: '7.50', currency: 'EUR' },
        });
      }

      expect(
        await db.run((m) => m.countBy(Conversion, { type: 'purchase', reference: 'RACE-1' })),
      ).toBe(1);
      expect(await db.run((m) => m.countBy(Postback, { conversionId: first.conversionId }))).toBe(
        1,
      );

      const [received] = await tracker.waitForRequests(1);
      expect(queryOf(received).get('txid')).toBe('RACE-1');
      expect(queryOf(received).get('cid')).toBe('race-click-1');
      await eventually(
        () =>
          db.run((m) =>
            m.findOneBy(Postback, {
              id: first.postbackId,
              state: 'delivered',
            }),
          ),
        5_000,
        'the postback to be marked delivered',
      );
      await sleep(300);
      expect(tracker.received).toHaveLength(1);
    }, 30_000);

    // Sequential checkouts prove the claiming (SKIP LOCKED) across instances; checkouts 20 at
    // a time add what a busy shop does: inserts into the outbox while both instances claim.
    it.each([
      { width: 1, how: 'one checkout at a time' },
      { width: 20, how: 'checkouts 20 at a time' },
    ])(
      'two instances flushing one outbox deliver 200 postbacks exactly once each ($how)',
      async ({ width }) => {
        const COUNT = 200;
        const prefix = `MULTI${width}-`;
        // A database of its own: a fresh outbox, whatever ran before.
        const own = await database.create();
        cleanups.push(() => own.drop()); // runs after the apps below have closed
        const tracker = await startTracker();
        tracker.setDefault({ status: 200, body: 'OK', delayMs: 5 });
        // Watch what each instance claims, without changing how it claims. The watch is in
        // place before either instance starts, so no claim (not even one a drain began just
        // before the first checkout) escapes it.
        const claimedBy: { id: string; store: OutboxStore }[] = [];
        const exchange = OutboxStore.prototype.exchange;
        OutboxStore.prototype.exchange = async function (
          this: OutboxStore,
          ...args: Parameters<OutboxStore['exchange']>
        ) {
          const result = await exchange.apply(this, args);
          claimedBy.push(...result.claimed.map((row) => ({ id: row.id, store: this })));
          return result;
        };
        cleanups.push(async () => {
          OutboxStore.prototype.exchange = exchange;
        });
        const instanceA = await boot(tracker, own);
        const instanceB = await boot(tracker, own);
        const db = instanceA.get(PostbackDatabase);
        const storeA = instanceA.get(OutboxStore);
        const claimsNow = () =>
          claimedBy.map(({ id, store }) => ({ id, by: store === storeA ? 'A' : 'B' }));

        // Every purchase goes through instance A, while A and B both flush.
        const conversions = instanceA.get(ConversionService);
        const results: RecordResult[] = [];
        const failedRecords: string[] = [];
        for (let wave = 0; wave < COUNT / width; wave++) {
          const settled = await Promise.allSettled(
            Array.from({ length: width }, (_, i) => {
              const n = wave * width + i;
              return conversions.record({
                type: 'purchase',
                orderId: `${prefix}${n}`,
                amount: '10.00',
                currency: 'USD',
                clickId: `multi-click-${n}`,
              });
            }),
          );
          settled.forEach((outcome, i) => {
            if (outcome.status === 'fulfilled') results.push(outcome.value);
            else failedRecords.push(`${prefix}${wave * width + i}: ${String(outcome.reason)}`);
          });
        }
        // A checkout must never fail because the outbox is being flushed at the same time.
        expect(failedRecords).toEqual([]);
        expect(results.filter((r) => r.queued && !r.duplicate)).toHaveLength(COUNT);

        const postbackIds = new Set(results.map((r) => r.postbackId as string));
        const ours = { id: In([...postbackIds]) };
        await tracker.waitForRequests(COUNT, 20_000);
        const allDelivered = async () =>
          (await db.run((m) => m.countBy(Postback, { ...ours, state: 'delivered' }))) === COUNT;
        await eventually(allDelivered, 5_000, 'every postback to be marked delivered').catch(
          () => undefined,
        );
        // Sent but not settled would mean the attempt's outcome was lost: the row waits in
        // flight for its lease to expire, to be sent a second time.
        const rows = await db.run((m) =>
          m.find(Postback, {
            where: ours,
            select: {
              id: true,
              state: true,
              attempts: true,
              lastError: true,
            },
          }),
        );
        expect(rows.filter((row) => row.state !== 'delivered')).toEqual([]);

        await sleep(500); // a double send would show up here
        expect(tracker.received).toHaveLength(COUNT);
        const requests = tracker.received.map(queryOf);
        expect(new Set(requests.map((q) => q.get('pb_id')))).toEqual(postbackIds);
        expect(new Set(requests.map((q) => q.get('txid'))).size).toBe(COUNT);
        for (const q of requests) {
          expect(q.get('cid')).toBe(`multi-click-${q.get('txid')?.slice(prefix.length)}`);
          expect(q.get('payout')).toBe('0.75');
        }

        // Every row claimed once, by one instance or the other (SKIP LOCKED, no double claim),
        // and both instances took part.
        // A drain may hand a claimed row back unsent (it is then claimed again); what must
        // hold is that every row was claimed and none was sent twice (checked above).
        const ourClaims = claimsNow().filter((c) => postbackIds.has(c.id));
        expect(new Set(ourClaims.map((c) => c.id)).size).toBe(COUNT);
        if (ourClaims.length > COUNT) {
          console.warn(
            `${database.label}: ${ourClaims.length - COUNT} row(s) handed back unsent and claimed again`,
          );
        }
        const byA = ourClaims.filter((c) => c.by === 'A').length;
        console.info(
          `${database.label}, width ${width}: instance A claimed ${byA}, instance B ${COUNT - byA} of ${COUNT}`,
        );
        expect({ A: byA > 0, B: COUNT - byA > 0 }).toEqual({
          A: true,
          B: true,
        });

        // One attempt per row, recorded once.
        expect(
          await db.run((m) => m.countBy(Postback, { ...ours, state: 'delivered', attempts: 1 })),
        ).toBe(COUNT);
        const attempts = await db.run((m) =>
          m.findBy(DeliveryAttempt, { postbackId: In([...postbackIds]) }),
        );
        expect(attempts).toHaveLength(COUNT);
        expect(attempts.every((a) => a.outcome === 'delivered' && a.attempt === 1)).toBe(true);
      },
      45_000,
    );

    // A claim locks the due rows (and, on InnoDB under REPEATABLE READ, the index gaps it
    // scanned) until it commits. A checkout arriving meanwhile must wait at most, never fail.
    it('a checkout that arrives while a claim holds the outbox is recorded, not refused', async () => {
      const own = await database.create();
      cleanups.push(() => own.drop());
      const tracker = await startTracker();
      // No flusher of its own: this test drives the one claim it needs.
      const app = await boot(tracker, own, { enabled: false });
      const conversions = app.get(ConversionService);
      const db = app.get(PostbackDatabase);
      const store = app.get(OutboxStore);
      const purchase = (orderId: string) => ({
        type: 'purchase',
        orderId,
        amount: '10.00',
        currency: 'EUR',
        clickId: `click-of-${orderId}`,
      });
      // An outbox in use: delivered rows, then a full batch (50) due at once, as after a
      // tracker outage, with the optimizer's statistics up to date.
      const record = async (orderIds: string[]) => {
        for (let i = 0; i < orderIds.length; i += 10) {
          await Promise.all(
            orderIds.slice(i, i + 10).map((id) => conversions.record(purchase(id))),
          );
        }
      };
      const orderIds = (prefix: string, count: number) =>
        Array.from({ length: count }, (_, n) => `${prefix}-${String(n).padStart(3, '0')}`);
      await record(orderIds('DONE', 100));
      await db.run((m) => m.update(Postback, { state: 'pending' }, { state: 'delivered' }));
      const due = orderIds('DUE', 50);
      await record(due);
      await db.run((m) => m.query(engine.schema.analyzeOutbox));

      // The next transaction, and only it, is the claim's: pause it once it has selected.
      let selected!: () => void;
      const reachedUpdate = new Promise<void>((resolve) => (selected = resolve));
      let resume!: () => void;
      const gate = new Promise<void>((resolve) => (resume = resolve));
      const transaction = db.transaction.bind(db);
      db.transaction = <T>(work: (manager: EntityManager) => Promise<T>) => {
        db.transaction = transaction;
        return transaction((manager) => work(pausingBeforeUpdate(manager, selected, gate)));
      };
      const claim = claimDue(store, due.length).then(
        (rows) => ({
          claimed: rows.map((r) => (JSON.parse(r.fieldsJson) as PostbackFields).orderId).sort(),
        }),
        (error: Error) => ({ claimError: `${error.name}: ${error.message}` }),
      );
      await Promise.race([reachedUpdate, claim]); // the claim selected nothing: see below

      let checkout: Promise<Record<string, unknown>>;
      try {
        checkout = conversions.record(purchase('NEW')).then(
          (result) => ({
            duplicate: result.duplicate,
            queued: result.queued,
          }),
          (error: Error) => ({
            checkoutError: `${error.name}: ${error.message}`,
          }),
        );
        await sleep(300); // the checkout is under way: done (PostgreSQL) or waiting on a lock
      } finally {
        resume();
      }

      expect(await checkout).toEqual({ duplicate: false, queued: true });
      expect(await claim).toEqual({
        claimed: due,
      });
      // The claimed rows are in flight; the new one waits, pending, for the next claim.
      const pending = await db.run((m) => m.findBy(Postback, { state: 'pending' }));
      expect(pending.map((row) => row.fields.orderId)).toEqual(['NEW']);
    }, 30_000);
  });
});
