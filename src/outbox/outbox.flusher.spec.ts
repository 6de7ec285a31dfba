import { jest } from '@jest/globals';

import { resolvePostbackOptions } from '../options/resolve-options.js';
import { OutboxFlusher } from './outbox.flusher.js';
import type { ClaimedPostback, OutboxStore, Settlement } from './outbox.store.js';
import type { PostbackHttpClient } from './postback-http.client.js';
import { PostbackSender } from './postback-sender.js';

const options = resolvePostbackOptions({
  trackers: [
    { name: 'net', clickParams: ['cid'], postback: { url: 'https://t.example/pb?c={click_id}' } },
  ],
  outbox: { enabled: false, concurrency: 4 },
});

function claimedRow(n: number): ClaimedPostback {
  return {
    id: `pb-${n}`,
    tracker: 'net',
    attempts: 0,
    afterPostbackId: null,
    claimToken: 'token',
    nextAttemptAt: Date.now() + options.outbox.leaseMs,
    createdAt: Date.now(),
    fieldsJson: JSON.stringify({
      clickId: `c${n}`,
      eventType: 'purchase',
      conversionId: `cv-${n}`,
      occurredAt: 0,
    }),
  };
}

/** A store that hands out `rows` once and records what the flusher writes back. */
function storeWith(rows: ClaimedPostback[]) {
  const written: Settlement[] = [];
  const store = {
    exchange: jest.fn(async (finished: Settlement[], claim?: { limit: number }) => {
      written.push(...finished);
      return { claimed: claim ? rows.splice(0, claim.limit) : [], lost: [] };
    }),
    release: jest.fn(async () => undefined),
    markSending: jest.fn(async () => undefined),
    stateOf: jest.fn(async () => 'delivered' as const),
  };
  return { store: store as unknown as OutboxStore, written };
}

/** `storeWith` as on PostgreSQL and MySQL: marks ride the exchanges (see SendMarks). */
function columnMarksStore(rows: ClaimedPostback[]) {
  const made = storeWith(rows);
  // A mark written on its own before the sends would hold them forever here.
  const held = new Promise<void>(() => undefined);
  Object.assign(made.store, { marksRideExchanges: true, markSending: jest.fn(() => held) });
  return {
    ...made,
    exchange: made.store.exchange as unknown as jest.Mock<OutboxStore['exchange']>,
  };
}

/** A client whose send for click `c1` waits until `answer` is called. */
function slowForC1() {
  const sent: string[] = [];
  let answer = () => {};
  const answered = new Promise<void>((resolve) => (answer = resolve));
  const client = {
    send: jest.fn(async (request: { url: string }) => {
      sent.push(request.url);
      if (request.url.includes('c=c1')) await answered;
      return { status: 200, body: 'OK', durationMs: 1 };
    }),
  } as unknown as PostbackHttpClient;
  return { client, sent, answer };
}

const clock = { now: () => Date.now() };

/** A flusher that sends through `client`, as the module wires it. */
function flusherWith(store: OutboxStore, client: PostbackHttpClient, tuned = options) {
  return new OutboxFlusher(store, new PostbackSender(store, client, tuned, clock), tuned, clock);
}

const tick = (ms = 2) => new Promise((r) => setTimeout(r, ms));

const okClient = {
  send: jest.fn(async () => ({ status: 200, body: 'OK', durationMs: 1 })),
} as unknown as PostbackHttpClient;

describe('OutboxFlusher.flush', () => {
  it('sends every claimed row and writes the outcomes in rounds, not one by one', async () => {
    const { store, written } = storeWith(Array.from({ length: 40 }, (_, n) => claimedRow(n)));
    const flusher = flusherWith(store, okClient);
    await flusher.flush();
    expect(written.map((s) => s.row.id).sort()).toEqual(
      Array.from({ length: 40 }, (_, n) => `pb-${n}`).sort(),
    );
    expect(written.every((s) => s.change.state === 'delivered')).toBe(true);
    const calls = (store.exchange as unknown as jest.Mock).mock.calls.length;
    expect(calls).toBeLessThan(40 / 2);
  });

  it('makes no empty round trips when a tracker has fewer slots than the flusher', async () => {
    const narrow = resolvePostbackOptions({
      trackers: [
        {
          name: 'net',
          clickParams: ['cid'],
          concurrency: 2,
          postback: { url: 'https://t.example/pb?c={click_id}' },
        },
      ],
      outbox: { enabled: false, concurrency: 8 },
    });
    const { store, written } = storeWith(Array.from({ length: 60 }, (_, n) => claimedRow(n)));
    const slow = {
      send: jest.fn(async () => {
        await new Promise((resolve) => setTimeout(resolve, 2));
        return { status: 200, body: 'OK', durationMs: 2 };
      }),
    } as unknown as PostbackHttpClient;
    await flusherWith(store, slow, narrow).flush();
    expect(written).toHaveLength(60);
    const calls = (store.exchange as unknown as jest.Mock).mock.calls as [
      Settlement[],
      { limit: number } | undefined,
    ][];
    const empty = calls.filter(([finished, claim]) => finished.length === 0 && !claim);
    expect(empty).toEqual([]);
    expect(calls.every(([, claim]) => !claim || claim.limit > 0)).toBe(true);
  });

  it('keeps sending the rows it holds while a write is under way', async () => {
    const { store, written } = storeWith(Array.from({ length: 12 }, (_, n) => claimedRow(n)));
    const exchange = store.exchange as unknown as jest.Mock<OutboxStore['exchange']>;
    const answer = exchange.getMockImplementation() as OutboxStore['exchange'];
    // The database answers the first claim, then takes its time over the next write.
    let answerNow = () => {};
    const held = new Promise<void>((resolve) => (answerNow = resolve));
    exchange.mockImplementation(async (finished, claim) => {
      if (exchange.mock.calls.length > 1) await held;
      return answer(finished, claim);
    });
    const sent: string[] = [];
    const client = {
      send: jest.fn(async (request: { url: string }) => {
        sent.push(request.url);
        return { status: 200, body: 'OK', durationMs: 1 };
      }),
    } as unknown as PostbackHttpClient;
    const flushed = flusherWith(store, client).flush();
    // The first claim holds two rounds of the 4 slots: all 8 go out before the write returns.
    for (let i = 0; i < 50 && sent.length < 8; i++) await new Promise((r) => setTimeout(r, 2));
    expect(sent).toHaveLength(8);
    expect(exchange.mock.calls).toHaveLength(2);
    answerNow();
    await flushed;
    expect(written.map((s) => s.row.id).sort()).toEqual(
      Array.from({ length: 12 }, (_, n) => `pb-${n}`).sort(),
    );
  });

  it('claims again for a nudge that came while a claim was under way', async () => {
    const { store, written } = storeWith([]);
    const exchange = store.exchange as unknown as jest.Mock<OutboxStore['exchange']>;
    const due: ClaimedPostback[] = [];
    // The first claim looks before the new rows commit, and answers only afterwards.
    let answerNow = () => {};
    const held = new Promise<void>((resolve) => (answerNow = resolve));
    exchange.mockImplementation(async (finished, claim) => {
      written.push(...finished);
      const claimed = claim ? due.splice(0, claim.limit) : [];
      if (exchange.mock.calls.length === 1) await held;
      return { claimed, lost: [] };
    });
    const flusher = flusherWith(store, okClient);
    const flushed = flusher.flush();
    await new Promise((r) => setTimeout(r, 5));
    due.push(claimedRow(1), claimedRow(2));
    // What a nudge does (the schedule is off in these tests).
    void flusher.flush();
    await new Promise((r) => setTimeout(r, 5));
    answerNow();
    await flushed;
    expect(written.map((s) => s.row.id).sort()).toEqual(['pb-1', 'pb-2']);
  });

  it('finishes the drain when a send fails in an unexpected way, leaving the row to its lease', async () => {
    const { store, written } = storeWith([claimedRow(1), claimedRow(2)]);
    // A delivery attempt that breaks its promise never to reject (a bug).
    const sender = new PostbackSender(store, okClient, options, clock);
    const send = sender.send.bind(sender);
    const broken = {
      send: (row: ClaimedPostback) =>
        row.id === 'pb-1' ? Promise.reject(new Error('boom')) : send(row),
    } as PostbackSender;
    const flusher = new OutboxFlusher(store, broken, options, clock);
    await expect(flusher.flush()).resolves.toBeUndefined();
    // The broken one is not recorded (it stays in flight until its lease expires); the other is.
    expect(written.map((s) => s.row.id)).toEqual(['pb-2']);
  });

  it('sends at once where the marks are a column, and writes a mark within the delay', async () => {
    const { store, written, exchange } = columnMarksStore([claimedRow(1)]);
    const { client, sent, answer } = slowForC1();
    const flushed = flusherWith(store, client).flush();
    for (let i = 0; i < 100 && sent.length < 1; i++) await tick();
    expect(sent).toHaveLength(1);
    // Nothing else to write: the mark of the send still out gets an exchange of its own.
    const marked = () =>
      exchange.mock.calls.some(([, , marks]) => marks?.rows.some((row) => row.id === 'pb-1'));
    for (let i = 0; i < 100 && !marked(); i++) await tick(5);
    const markedWhileOut = marked();
    answer();
    await flushed;
    expect(markedWhileOut).toBe(true);
    expect(store.markSending).not.toHaveBeenCalled();
    expect(written.map((s) => s.row.id)).toEqual(['pb-1']);
  });

  it('never marks a row in the exchange that settles it', async () => {
    const { store, written, exchange } = columnMarksStore([claimedRow(1), claimedRow(2)]);
    const { client, sent, answer } = slowForC1();
    const flushed = flusherWith(store, client).flush();
    for (let i = 0; i < 100 && sent.length < 2; i++) await tick();
    // pb-2 is answered at once; pb-1 is still out when the delay ends.
    const settledPb2 = () => written.some((s) => s.row.id === 'pb-2');
    for (let i = 0; i < 100 && !settledPb2(); i++) await tick(5);
    answer();
    await flushed;
    const calls = exchange.mock.calls;
    expect(calls.some(([, , marks]) => marks?.rows.some((row) => row.id === 'pb-1'))).toBe(true);
    for (const [finished, , marks] of calls) {
      const settled = new Set(finished.map((s) => s.row.id));
      expect(marks?.rows.filter((row) => settled.has(row.id)) ?? []).toEqual([]);
    }
    expect(written.map((s) => s.row.id).sort()).toEqual(['pb-1', 'pb-2']);
  });
});
