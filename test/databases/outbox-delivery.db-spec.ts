import { jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import request from 'supertest';

import {
  DeliveryAttempt,
  OutboxAdminService,
  OutboxFlusher,
  Postback,
  verifyPostbackSignature,
} from '../../src/index.js';
import { FakeTracker, type ReceivedPostback } from '../../src/testing/index.js';
import { type ClaimedPostback, OutboxStore } from '../../src/outbox/outbox.store.js';
import type { OutboxOptions } from '../../src/interfaces/index.js';
import { FAST_OUTBOX, startAgent, type TestAgent, testTracker } from '../utils/agent.js';
import { attemptsOf, record, rowOf, waitForState } from '../utils/agent-driver.js';
import { HMAC_SECRET } from '../utils/signing.js';
import { describeEachDatabase, testDatabases } from '../utils/test-databases.js';
import { eventually, sleep } from '../utils/wait.js';
import { claimDue, settle } from '../utils/outbox-store.js';

const HOUR_MS = 60 * 60 * 1000;
const eventIdOf = (r: ReceivedPostback) => new URL(r.url, 'http://x').searchParams.get('pb_id');
const orderOf = (r: ReceivedPostback) => new URL(r.url, 'http://x').searchParams.get('txid');
const purchase = (orderId: string, tracker?: string) => ({
  type: 'purchase',
  orderId,
  amount: '30.00',
  currency: 'EUR',
  clickId: `click-of-${orderId}`,
  ...(tracker && { tracker }),
});

/**
 * Delivery under tracker faults, crashes and restarts, on every engine: the same agent code
 * on SQLite, PostgreSQL and MariaDB. Retry schedules run in milliseconds.
 */
describeEachDatabase(await testDatabases(), (database) => {
  let tracker: FakeTracker;
  let url: string;
  let drop: () => Promise<void>;
  const agents: TestAgent[] = [];

  const start = async (
    outbox: OutboxOptions = FAST_OUTBOX,
    trackers = [testTracker(tracker.url())],
  ) => {
    const agent = await startAgent({ databaseUrl: url, trackers, outbox });
    agents.push(agent);
    return agent;
  };
  const stop = async (agent: TestAgent) => {
    agents.splice(agents.indexOf(agent), 1);
    await agent.app.close();
  };
  const countIn = (agent: TestAgent, state: Postback['state']) =>
    agent.db.run((m) => m.countBy(Postback, { state }));

  beforeEach(async () => {
    tracker = await new FakeTracker().start();
    ({ url, drop } = await database.create());
  });

  afterEach(async () => {
    for (const agent of agents.splice(0)) await agent.app.close();
    await tracker.stop();
    await drop();
  });

  it('delivers every postback after a 503 outage, each event ID answered 2xx exactly once', async () => {
    tracker.setDefault({ status: 503, body: 'maintenance' });
    const agent = await start({
      ...FAST_OUTBOX,
      retry: { initialDelayMs: 50, multiplier: 1, jitter: 0.5, maxAttempts: 1_000 },
      circuitBreaker: { failureThreshold: 5, cooldownMs: 200, maxCooldownMs: 400 },
    });
    const ids: string[] = [];
    for (let i = 0; i < 30; i++) ids.push((await record(agent, purchase(`OUT-${i}`))).postbackId);
    // The outage: five failures open the circuit, then single probes keep failing.
    await tracker.waitForRequests(8);
    expect(tracker.received.every((r) => r.status === 503)).toBe(true);
    tracker.setDefault({ status: 200 });
    await eventually(
      async () => (await countIn(agent, 'delivered')) === 30,
      15_000,
      '30 delivered',
    );

    const accepted = tracker.received.filter((r) => r.status === 200).map(eventIdOf);
    expect(accepted.sort()).toEqual([...ids].sort());
    for (const received of tracker.received) {
      expect(eventIdOf(received)).toBe(ids[Number(orderOf(received)?.split('-')[1])]);
    }
    const attempts = await agent.db.run((m) => m.count(DeliveryAttempt));
    expect(attempts).toBe(tracker.received.length);
  }, 30_000);

  it('delivers on the third attempt after two 503s, recording every attempt with the same event ID', async () => {
    tracker.respondWith({ status: 503, body: 'down' }, { status: 503, body: 'still down' });
    const agent = await start();
    const { postbackId } = await record(agent, purchase('O-503'));
    await waitForState(agent, postbackId, 'delivered');

    const attempts = await attemptsOf(agent, postbackId);
    expect(attempts.map((a) => [a.attempt, a.statusCode, a.outcome])).toEqual([
      [1, 503, 'retry'],
      [2, 503, 'retry'],
      [3, 200, 'delivered'],
    ]);
    expect(attempts[0].responseExcerpt).toBe('down');
    expect(new Set(tracker.received.map(eventIdOf))).toEqual(new Set([postbackId]));
    for (const received of tracker.received) {
      expect(verifyPostbackSignature({ secret: HMAC_SECRET, url: received.url })).toBe(true);
    }
  });

  it('persists Retry-After in the row, capped, instead of waiting in memory', async () => {
    const twoDays = new Date(Date.now() + 2 * 24 * HOUR_MS).toUTCString();
    tracker.respondWith(
      { status: 429, headers: { 'retry-after': '120' } },
      { status: 503, headers: { 'retry-after': twoDays } },
    );
    const agent = await start();
    const before = Date.now();
    const first = (await record(agent, purchase('O-429'))).postbackId;
    const second = (await record(agent, purchase('O-2days'))).postbackId;
    const failedOnce = async (id: string) => {
      const row = await rowOf(agent, id);
      return row.attempts === 1 && row.state === 'pending' ? row : undefined;
    };
    const [a, b] = [
      await eventually(() => failedOnce(first)),
      await eventually(() => failedOnce(second)),
    ];
    expect(a.nextAttemptAt).toBeGreaterThanOrEqual(before + 120_000);
    expect(a.nextAttemptAt).toBeLessThan(Date.now() + 121_000);
    // Two days asked, one hour (the default cap) granted.
    expect(b.nextAttemptAt).toBeGreaterThanOrEqual(before + HOUR_MS);
    expect(b.nextAttemptAt).toBeLessThanOrEqual(Date.now() + HOUR_MS);
  });

  it('ends an attempt on a hanging tracker at the timeout, frees the slot and retries', async () => {
    tracker.respondWith({ hang: true });
    const agent = await start({ ...FAST_OUTBOX, timeoutMs: 300, leaseMs: 2_000 });
    const { postbackId } = await record(agent, purchase('O-hang'));
    await waitForState(agent, postbackId, 'delivered');
    const [first, second] = await attemptsOf(agent, postbackId);
    expect(first).toMatchObject({
      outcome: 'retry',
      statusCode: null,
      error: 'timed out after 300 ms',
    });
    expect(first.durationMs).toBeGreaterThanOrEqual(250);
    expect(first.durationMs).toBeLessThan(2_000);
    expect(second).toMatchObject({ outcome: 'delivered', statusCode: 200 });
  });

  it('dead-letters a permanent 400 after the configured count, then replays it with the same event ID', async () => {
    tracker.setDefault({ status: 400, body: 'unknown click id' });
    const agent = await start({
      ...FAST_OUTBOX,
      retry: { ...FAST_OUTBOX.retry, permanentFailureAttempts: 2 },
    });
    const { postbackId } = await record(agent, purchase('O-400'));
    await waitForState(agent, postbackId, 'dead');
    expect(tracker.received).toHaveLength(2);
    const row = await rowOf(agent, postbackId);
    expect(row).toMatchObject({ lastStatus: 400, lastError: expect.stringContaining('HTTP 400') });
    expect(
      (await attemptsOf(agent, postbackId)).map((a) => [
        a.statusCode,
        a.responseExcerpt,
        a.outcome,
      ]),
    ).toEqual([
      [400, 'unknown click id', 'retry'],
      [400, 'unknown click id', 'dead'],
    ]);

    tracker.setDefault({ status: 200 });
    expect(await agent.app.get(OutboxAdminService).replay({ ids: [postbackId] })).toBe(1);
    await waitForState(agent, postbackId, 'delivered');
    expect(tracker.received.map(eventIdOf)).toEqual([postbackId, postbackId, postbackId]);
  });

  it('gives up after the last attempt and says why', async () => {
    tracker.setDefault({ status: 500 });
    const agent = await start();
    const { postbackId } = await record(agent, purchase('O-500'));
    await waitForState(agent, postbackId, 'dead');
    expect(await rowOf(agent, postbackId)).toMatchObject({
      attempts: FAST_OUTBOX.retry?.maxAttempts,
      lastError: expect.stringMatching(/gave up after 5 attempts; last: HTTP 500/),
    });
    expect(tracker.received).toHaveLength(5);
  });

  it('delivers after a restart a postback whose tracker was down', async () => {
    const port = tracker.port;
    await tracker.stop();
    const down = `http://127.0.0.1:${port}/postback`;
    const first = await start(
      { ...FAST_OUTBOX, retry: { ...FAST_OUTBOX.retry, initialDelayMs: 300 } },
      [testTracker(down)],
    );
    const { postbackId } = await record(first, purchase('O-restart'));
    await eventually(
      async () => (await attemptsOf(first, postbackId)).length >= 1,
      5_000,
      'a failed attempt',
    );
    expect((await attemptsOf(first, postbackId))[0].error).toMatch(/ECONNREFUSED/);
    await stop(first);

    tracker = await new FakeTracker().start(port);
    const second = await start(FAST_OUTBOX, [testTracker(down)]);
    await waitForState(second, postbackId, 'delivered');
    expect(tracker.received.map(orderOf)).toEqual(['O-restart']);
  });

  it('claims rows that fall due behind the last one claimed, near or far behind', async () => {
    // Leases long enough not to run out during the test: only these claims take rows.
    const agent = await start({ ...FAST_OUTBOX, enabled: false, leaseMs: 60_000 });
    const first = await record(agent, purchase('O-first'));
    const second = await record(agent, purchase('O-second'));
    const near = await record(agent, purchase('O-near'));
    const far = await record(agent, purchase('O-far'));
    const firstDueAt = (await rowOf(agent, first.postbackId)).nextAttemptAt - 500;
    const dueAt = (id: string, nextAttemptAt: number) =>
      agent.db.run((m) => m.update(Postback, { id }, { nextAttemptAt }));
    await dueAt(first.postbackId, firstDueAt);
    await dueAt(near.postbackId, firstDueAt + 60_000);
    await dueAt(far.postbackId, firstDueAt + 60_000);
    const store = agent.app.get(OutboxStore);
    // The flusher's way: one claim riding on a write of outcomes (none here).
    const claim = async (limit: number) =>
      (await store.exchange([], { limit })).claimed.map((r) => r.id);
    expect(await claim(1)).toEqual([first.postbackId]);
    // Now due before the row just claimed: a commit a moment late, and a reversal whose
    // original was on its way for a minute (or a retry scheduled by another clock).
    await dueAt(near.postbackId, firstDueAt - 500);
    await dueAt(far.postbackId, firstDueAt - 60_000);
    const claimed = await claim(10);
    const started = Date.now();
    while (claimed.length < 3 && Date.now() - started < 10_000) {
      await sleep(200);
      claimed.push(...(await claim(10)));
    }
    expect(claimed.sort()).toEqual([second.postbackId, near.postbackId, far.postbackId].sort());
  }, 20_000);

  it('dead-letters a row whose stored fields are not JSON, with the reason, and sends the rest', async () => {
    const agent = await start({ ...FAST_OUTBOX, enabled: false });
    const broken = (await record(agent, purchase('O-broken'))).postbackId;
    const intact = (await record(agent, purchase('O-intact'))).postbackId;
    // A hand edit gone wrong: the text is cut short.
    await agent.db.run((m) =>
      m
        .createQueryBuilder()
        .update(Postback)
        .set({ fields: () => `'{"clickId":"click-of-O-bro'` })
        .where('id = :id', { id: broken })
        .execute(),
    );
    await agent.app.get(OutboxFlusher).flush();
    expect(await rowOf(agent, intact)).toMatchObject({ state: 'delivered' });
    // (Not the whole row: its fields would not load.)
    const dead = await agent.db.run((m) =>
      m.findOneOrFail(Postback, {
        select: { id: true, state: true, lastError: true },
        where: { id: broken },
      }),
    );
    expect(dead.state).toBe('dead');
    expect(dead.lastError).toMatch(/^cannot build the postback: .*JSON/);
    expect(tracker.received.map(orderOf)).toEqual(['O-intact']);
  });

  it("warns when the instance's clock and the database's disagree beyond the lease margin", async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    try {
      const inSync = await startAgent({ databaseUrl: url, trackers: [testTracker(tracker.url())] });
      agents.push(inSync);
      const skew = await inSync.app.get(OutboxStore).clockSkew();
      if (database.kind === 'sqlite') {
        expect(skew).toBeUndefined(); // one process owns the file: nothing to compare
        return;
      }
      // Same machine, same clock: off by no more than the query's round trip allows.
      expect(Math.abs(skew!.skewMs)).toBeLessThanOrEqual(skew!.uncertaintyMs + 50);

      const ahead = await startAgent({
        databaseUrl: url,
        trackers: [testTracker(tracker.url())],
        clock: () => Date.now() + 5 * 60_000,
      });
      agents.push(ahead);
      const warning = await eventually(
        async () =>
          warn.mock.calls
            .map(([message]) => String(message))
            .find((message) => message.includes('clock')),
        5_000,
        'a clock warning',
      );
      const [, ms] = /^This instance's clock is (\d+) ms ahead of the database's\./.exec(
        warning as string,
      )!;
      expect(Math.abs(Number(ms) - 5 * 60_000)).toBeLessThan(1_000);
      expect(warn.mock.calls.filter(([m]) => String(m).includes('clock'))).toHaveLength(1);
    } finally {
      warn.mockRestore();
    }
  });

  it('re-sends, with the same event ID, a postback claimed by a worker that died', async () => {
    const crashed = await start({ ...FAST_OUTBOX, enabled: false, leaseMs: 2_500 });
    const { postbackId } = await record(crashed, purchase('O-crash'));
    const [claimed] = await claimDue(crashed.app.get(OutboxStore), 10);
    expect(claimed.id).toBe(postbackId);
    expect(await rowOf(crashed, postbackId)).toMatchObject({
      state: 'in_flight',
      claimToken: claimed.claimToken,
    });
    await stop(crashed); // died after claiming, before sending

    const survivor = await start({ ...FAST_OUTBOX, leaseMs: 2_500 });
    await waitForState(survivor, postbackId, 'delivered');
    expect(tracker.received.map(eventIdOf)).toEqual([postbackId]);
  });

  it('dead-letters a postback whose worker dies every time, recording each loss', async () => {
    const agent = await start({ ...FAST_OUTBOX, enabled: false, leaseMs: 2_500 });
    const { postbackId } = await record(agent, purchase('O-poison'));
    const store = agent.app.get(OutboxStore);
    for (let claim = 1; claim <= 6; claim++) {
      const claimed = await claimDue(store, 10);
      expect(claimed.map((r) => r.id)).toEqual(claim <= 5 ? [postbackId] : []);
      // The request goes out, the worker dies with the row in flight; its lease runs out. (A
      // row never marked as sending is a lost claim, not an attempt: lost-claims.db-spec.ts.)
      await store.markSending(claimed);
      await agent.db.run((m) =>
        m.update(Postback, { id: postbackId }, { nextAttemptAt: Date.now() - 1 }),
      );
    }
    expect(await rowOf(agent, postbackId)).toMatchObject({
      state: 'dead',
      attempts: 5,
      lastError:
        'gave up after 5 attempts; last: the worker sending it stopped before recording an outcome (its lease expired)',
    });
    expect((await attemptsOf(agent, postbackId)).map((a) => [a.attempt, a.outcome])).toEqual([
      [1, 'retry'],
      [2, 'retry'],
      [3, 'retry'],
      [4, 'retry'],
      [5, 'dead'],
    ]);
    expect(tracker.received).toHaveLength(0);
  });

  it('refuses to let a worker whose lease was taken over record its outcome', async () => {
    const agent = await start({ ...FAST_OUTBOX, enabled: false, leaseMs: 2_500 });
    const { postbackId } = await record(agent, purchase('O-lease'));
    const store = agent.app.get(OutboxStore);
    const [stale] = await claimDue(store, 10);
    // The lease runs out (a stalled process); another worker claims the row and delivers it.
    await agent.db.run((m) =>
      m.update(Postback, { id: postbackId }, { nextAttemptAt: Date.now() - 1 }),
    );
    const [current] = await claimDue(store, 10);
    expect(current.claimToken).not.toBe(stale.claimToken);
    const attempt = {
      attempt: 1,
      startedAt: Date.now(),
      durationMs: 1,
      requestUrl: 'x',
      responseExcerpt: null,
    };
    expect(
      await settle(
        store,
        current,
        { ...attempt, statusCode: 200, outcome: 'delivered', error: null },
        { state: 'delivered' },
      ),
    ).toBe(true);
    expect(
      await settle(
        store,
        stale,
        { ...attempt, statusCode: 500, outcome: 'retry', error: 'HTTP 500' },
        { state: 'pending' },
      ),
    ).toBe(false);
    expect((await rowOf(agent, postbackId)).state).toBe('delivered');
  });

  it('tells, in one write of several deliveries, which rows it still held', async () => {
    const agent = await start({ ...FAST_OUTBOX, enabled: false, leaseMs: 2_500 });
    const kept = (await record(agent, purchase('O-kept'))).postbackId;
    const taken = (await record(agent, purchase('O-taken'))).postbackId;
    const store = agent.app.get(OutboxStore);
    const claimed = await claimDue(store, 10);
    expect(claimed.map((r) => r.id).sort()).toEqual([kept, taken].sort());
    await store.markSending(claimed); // as the flusher does before the requests go out
    // One lease runs out; another worker takes that row over.
    await agent.db.run((m) => m.update(Postback, { id: taken }, { nextAttemptAt: Date.now() - 1 }));
    const [takeover] = await claimDue(store, 10);
    expect(takeover.id).toBe(taken);
    // The flusher's shape of a delivery: grouped into one write per claim.
    const delivered = (row: ClaimedPostback) => ({
      row,
      attempt: {
        attempt: 1,
        startedAt: Date.now(),
        durationMs: 1,
        requestUrl: 'x',
        statusCode: 200,
        outcome: 'delivered' as const,
        error: null,
        responseExcerpt: null,
      },
      change: {
        state: 'delivered' as const,
        attempts: 1,
        lastStatus: 200,
        deliveredAt: Date.now(),
      },
    });
    const { lost } = await store.exchange(claimed.map(delivered));
    expect(lost.map((s) => s.row.id)).toEqual([taken]);
    expect(await rowOf(agent, kept)).toMatchObject({ state: 'delivered', claimToken: null });
    expect(await rowOf(agent, taken)).toMatchObject({
      state: 'in_flight',
      claimToken: takeover.claimToken,
    });
    // Both sends are on record, the lost one too (after the takeover's count of the lapse).
    expect((await attemptsOf(agent, kept)).map((a) => a.outcome)).toEqual(['delivered']);
    expect((await attemptsOf(agent, taken)).map((a) => a.outcome)).toEqual(['retry', 'delivered']);
  });

  it('lets a send in flight finish on shutdown and records its outcome', async () => {
    tracker.respondWith({ status: 200, delayMs: 700 });
    const agent = await start();
    const { postbackId } = await record(agent, purchase('O-shutdown'));
    await tracker.waitForRequests(1); // the tracker has the request; its answer is 700 ms away
    await stop(agent);

    const reopened = await start({ ...FAST_OUTBOX, enabled: false });
    expect(await rowOf(reopened, postbackId)).toMatchObject({ state: 'delivered', attempts: 1 });
    expect(tracker.received).toHaveLength(1);
  });

  it('keeps delivering to a healthy tracker while another hangs, and pauses the hanging one', async () => {
    const TIMEOUT_MS = 1_500;
    const hanging = await new FakeTracker().start();
    hanging.setDefault({ hang: true });
    try {
      const agent = await start(
        {
          flushIntervalMs: 50,
          concurrency: 4, // two slots per tracker
          timeoutMs: TIMEOUT_MS,
          leaseMs: 5_000,
          retry: { initialDelayMs: 10, multiplier: 1, jitter: 0, maxAttempts: 50 },
          circuitBreaker: { failureThreshold: 4, cooldownMs: 60_000 },
        },
        [
          testTracker(tracker.url(), { name: 'healthy', clickParams: ['h'] }),
          testTracker(hanging.url(), { name: 'hanging', clickParams: ['x'] }),
        ],
      );
      for (let i = 0; i < 20; i++) await record(agent, purchase(`hanging-${i}`, 'hanging'));
      await hanging.waitForRequests(2, 2_000); // both of its slots are now held

      const started = Date.now();
      for (let i = 0; i < 20; i++) await record(agent, purchase(`healthy-${i}`, 'healthy'));
      await tracker.waitForRequests(20, TIMEOUT_MS);
      // All delivered before the hanging tracker's first attempts could even time out.
      expect(Date.now() - started).toBeLessThan(TIMEOUT_MS);

      // After four timeouts in a row its circuit opens: no further requests for the cooldown;
      // its rows wait in the database, pending (claims skip the paused tracker), not in a slot.
      const inFlight = () =>
        agent.db.run((m) => m.countBy(Postback, { tracker: 'hanging', state: 'in_flight' }));
      await eventually(
        async () => hanging.received.length >= 4 && (await inFlight()) === 0,
        5 * TIMEOUT_MS,
        'a pause',
      );
      const sent = hanging.received.length;
      // The fourth failure opens it; a send that started before then may still be one more.
      expect(sent).toBeGreaterThanOrEqual(4);
      expect(sent).toBeLessThanOrEqual(4 + 2 - 1);
      await sleep(500);
      expect(hanging.received.length).toBe(sent);
      const waiting = await agent.db.run((m) => m.findBy(Postback, { tracker: 'hanging' }));
      expect(waiting.map((p) => p.state)).toEqual(Array(20).fill('pending'));
    } finally {
      for (const agent of agents.splice(0)) await agent.app.close();
      await hanging.stop();
    }
  }, 20_000);
});
