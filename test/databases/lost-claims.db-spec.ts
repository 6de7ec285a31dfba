import request from 'supertest';

import { FakeTracker } from '../../src/testing/index.js';
import { DeliveryAttempt, OutboxFlusher, Postback } from '../../src/index.js';
import { OutboxStore } from '../../src/outbox/outbox.store.js';
import { FAST_OUTBOX, startAgent, type TestAgent, testTracker } from '../utils/agent.js';
import { claimDue } from '../utils/outbox-store.js';
import { describeEachDatabase, testDatabases } from '../utils/test-databases.js';

const databases = await testDatabases();
const LEASE_MS = FAST_OUTBOX.leaseMs as number;

/**
 * A worker killed with claimed rows still queued leaves them in flight until their leases
 * expire. Those rows were never sent: their claims are counted apart (`lostClaims`), never as
 * attempts, so however often their senders die, postbacks are dead-lettered only for what
 * trackers answered. A row marked as sending when its worker died may have reached the
 * tracker: that one is an attempt.
 */
describeEachDatabase(databases, (database) => {
  let tracker: FakeTracker;
  let drop: () => Promise<void>;
  let agent: TestAgent;
  let now: number;

  beforeEach(async () => {
    tracker = await new FakeTracker().start();
    tracker.setDefault({ status: 200 });
    const created = await database.create();
    drop = created.drop;
    now = Date.now();
    agent = await startAgent({
      databaseUrl: created.url,
      trackers: [testTracker(tracker.url())],
      // Claimed by hand here; the flusher runs when the test says so.
      outbox: { ...FAST_OUTBOX, enabled: false, retry: { ...FAST_OUTBOX.retry, maxAttempts: 3 } },
      clock: () => now,
    });
    await request(agent.server as never)
      .post('/v1/events')
      .send({
        type: 'purchase',
        orderId: 'LOST-1',
        amount: '1.00',
        currency: 'EUR',
        clickId: 'c-1',
      })
      .expect(202);
  });
  afterEach(async () => {
    await agent?.app.close();
    await tracker?.stop();
    await drop?.();
  });

  const row = () => agent.db.run((m) => m.findOneByOrFail(Postback, {}));
  const attempts = () => agent.db.run((m) => m.find(DeliveryAttempt));

  it('delivers a postback whose claims were lost many times, with one attempt: the real send', async () => {
    const store = agent.app.get(OutboxStore);
    for (let i = 0; i < 10; i++) {
      // Claimed, then the worker dies before sending: the lease runs out.
      expect(await claimDue(store, 10)).toHaveLength(1);
      now += LEASE_MS + 1;
    }
    expect(await row()).toMatchObject({ state: 'in_flight', attempts: 0, lostClaims: 9 });

    await agent.app.get(OutboxFlusher).flush();
    expect(await row()).toMatchObject({
      state: 'delivered',
      attempts: 1,
      lostClaims: 10,
      lastError: null,
    });
    expect(tracker.received).toHaveLength(1);
    expect((await attempts()).map((a) => a.outcome)).toEqual(['delivered']);
  });

  it('counts a claim whose request had started as an attempt, up to the dead letter', async () => {
    const store = agent.app.get(OutboxStore);
    for (let i = 0; i < 3; i++) {
      const claimed = await claimDue(store, 10);
      expect(claimed).toHaveLength(1);
      // The request went out (it may have reached the tracker), then the worker died.
      await store.markSending(claimed);
      now += LEASE_MS + 1;
    }
    await claimDue(store, 10);
    const dead = await row();
    expect(dead).toMatchObject({ state: 'dead', attempts: 3, lostClaims: 0 });
    expect(dead.lastError).toBe(
      'gave up after 3 attempts; last: the worker sending it stopped before recording an outcome (its lease expired)',
    );
    expect(await attempts()).toHaveLength(3);
  });

  it('counts as an attempt a send whose mark rode an exchange (PostgreSQL, MySQL)', async () => {
    const store = agent.app.get(OutboxStore);
    if (!store.marksRideExchanges) {
      // SQLite marks before the request, in its journal (see send-journal.ts).
      await expect(store.exchange([], undefined, { rows: [], at: now })).resolves.toBeDefined();
      return;
    }
    const claimed = await claimDue(store, 10);
    expect(claimed).toHaveLength(1);
    // The flusher's shape: its sends went out, their marks go with the next exchange.
    await store.exchange([], undefined, { rows: claimed, at: now - 5 });
    expect((await row()).sendingAt).toBe(now - 5);
    now += LEASE_MS + 1;
    await claimDue(store, 10);
    expect(await row()).toMatchObject({ attempts: 1, lostClaims: 0 });
    expect((await attempts()).map((a) => a.startedAt)).toEqual([now - LEASE_MS - 1 - 5]);
  });
});
