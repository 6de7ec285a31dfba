import { jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';

import { postbackDataSourceOptions } from '../postback.data-source.js';
import { PostbackDatabase } from '../database/postback-database.js';
import { resolvePostbackOptions } from '../options/resolve-options.js';
import { Click } from './click.entity.js';
import {
  CLICK_WRITE_BATCH_SIZE,
  ClickWriteBuffer,
  MAX_PENDING_CLICK_WRITES,
} from './click-write-buffer.js';

const optionsWith = (bufferMs?: number) =>
  resolvePostbackOptions({
    trackers: [
      { name: 'net', clickParams: ['cid'], postback: { url: 'https://t.example/pb?c={click_id}' } },
    ],
    capture: { bufferMs },
  });

let seq = 0;
function row(clickId: string, at: number, extra: Partial<Click> = {}): Click {
  return {
    id: `00000000-0000-4000-8000-${String(++seq).padStart(12, '0')}`,
    tracker: 'net',
    clickId,
    visitorKey: 'v',
    customerId: null,
    landingPath: '/landing',
    subParams: null,
    firstSeenAt: at,
    lastSeenAt: at,
    ...extra,
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('ClickWriteBuffer', () => {
  let dataSource: DataSource;
  let db: PostbackDatabase;
  let transactions: number;
  /** Failures the next transactions throw, in turn, before reaching the database. */
  let failNext: Error[];
  const buffers: ClickWriteBuffer[] = [];

  const stored = () => db.run((m) => m.find(Click, { order: { clickId: 'ASC' } }));
  const bufferOf = (bufferMs?: number) => {
    const buffer = new ClickWriteBuffer(db, optionsWith(bufferMs));
    buffers.push(buffer);
    return buffer;
  };

  beforeEach(async () => {
    dataSource = await new DataSource(postbackDataSourceOptions({ url: 'sqlite::memory:' }));
    await dataSource.initialize();
    db = new PostbackDatabase(dataSource);
    transactions = 0;
    failNext = [];
    const transaction = db.transaction.bind(db);
    db.transaction = ((work) => {
      transactions++;
      const failure = failNext.shift();
      if (!failure) return transaction(work);
      // Fails a moment later, as a database does, so landings can arrive meanwhile.
      return new Promise((_, reject) => setTimeout(() => reject(failure), 10));
    }) as typeof db.transaction;
  });
  afterEach(async () => {
    jest.restoreAllMocks();
    // Stop every buffer's timers before the database goes away.
    failNext = [];
    await Promise.all(buffers.splice(0).map((b) => b.beforeApplicationShutdown()));
    await dataSource.destroy();
  });

  it('writes the clicks of an interval together, in one transaction', async () => {
    // Long enough that 200 adds on a busy machine still end inside the interval.
    const buffer = bufferOf(300);
    for (let i = 0; i < 200; i++)
      expect(buffer.add(row(`c-${String(i).padStart(3, '0')}`, i))).toBe(true);
    await sleep(5);
    expect(transactions).toBe(0);
    expect(buffer.pending).toBe(200);
    await sleep(600);
    expect(transactions).toBe(1);
    expect(buffer.pending).toBe(0);
    expect(await stored()).toHaveLength(200);
  });

  it('does not wait for the interval once a full batch is queued', async () => {
    const buffer = bufferOf(60_000);
    for (let i = 0; i < CLICK_WRITE_BATCH_SIZE; i++) buffer.add(row(`c-${i}`, i));
    await sleep(50);
    expect(transactions).toBe(1);
    expect(await stored()).toHaveLength(CLICK_WRITE_BATCH_SIZE);
  });

  it('merges repeated landings of a key before writing, the later landing winning', async () => {
    const buffer = bufferOf(60_000);
    buffer.add(row('a', 1, { customerId: 'cust', subParams: { s: '1' }, landingPath: '/one' }));
    buffer.add(row('a', 2, { landingPath: '/two' })); // no customer, no sub-parameters
    buffer.add(row('b', 3, { subParams: { s: '2' } }));
    buffer.add(row('b', 4, { subParams: { s: '3' }, customerId: 'c2' }));
    expect(buffer.pending).toBe(2);
    await buffer.flushNow();
    expect(transactions).toBe(1);
    const [a, b] = await stored();
    expect(a).toMatchObject({
      clickId: 'a',
      customerId: 'cust',
      subParams: { s: '1' },
      landingPath: '/two',
      firstSeenAt: 1,
      lastSeenAt: 2,
    });
    expect(b).toMatchObject({
      clickId: 'b',
      customerId: 'c2',
      subParams: { s: '3' },
      lastSeenAt: 4,
    });
  });

  it('refuses clicks past the bound, warning once per period, and still merges repeats', async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    // A database that never answers: nothing leaves the buffer.
    db.transaction = (() => new Promise(() => undefined)) as typeof db.transaction;
    const buffer = new ClickWriteBuffer(db, optionsWith(60_000)); // not shut down: it would wait
    for (let i = 0; i < MAX_PENDING_CLICK_WRITES; i++) {
      expect(buffer.add(row(`c-${i}`, i))).toBe(true);
    }
    expect(buffer.pending).toBe(MAX_PENDING_CLICK_WRITES);
    for (let i = 0; i < 100; i++) expect(buffer.add(row(`over-${i}`, i))).toBe(false);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0][0])).toMatch(/10000 clicks are waiting.*session only/);
    // A repeat of a click already waiting takes no room.
    expect(buffer.add(row(`c-${MAX_PENDING_CLICK_WRITES - 1}`, 1))).toBe(true);
    expect(buffer.pending).toBe(MAX_PENDING_CLICK_WRITES);
  });

  it('keeps a failed batch, logs it, and writes it on a later try; newer landings keep the last word', async () => {
    const error = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    const buffer = bufferOf(20);
    failNext = [new Error('database is locked'), new Error('database is locked')];
    buffer.add(row('a', 1, { landingPath: '/first', subParams: { s: '1' } }));
    buffer.add(row('b', 1));
    const failing = buffer.flushNow();
    // A newer landing of 'a' while the failing write is under way.
    buffer.add(row('a', 5, { landingPath: '/second' }));
    expect(buffer.pending).toBe(3);
    await failing;
    expect(error).toHaveBeenCalledTimes(1);
    expect(String(error.mock.calls[0][0])).toMatch(/Could not store 2 clicks: database is locked/);
    expect(buffer.pending).toBe(2);
    await sleep(500); // a second failure, then a success after the back-off
    expect(transactions).toBe(3);
    expect(error).toHaveBeenCalledTimes(1); // the second failure came within the log period
    expect(buffer.pending).toBe(0);
    const [a, b] = await stored();
    expect(a).toMatchObject({ landingPath: '/second', subParams: { s: '1' }, lastSeenAt: 5 });
    expect(b).toMatchObject({ clickId: 'b' });
  });

  it('drops only the row the database refuses, with an error, and writes the others', async () => {
    const error = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    const buffer = bufferOf(60_000);
    buffer.add(row('good-1', 1));
    buffer.add(row('bad', 1, { landingPath: null as unknown as string })); // NOT NULL
    buffer.add(row('good-2', 1));
    await buffer.flushNow();
    expect((await stored()).map((c) => c.clickId)).toEqual(['good-1', 'good-2']);
    expect(buffer.pending).toBe(0);
    expect(error).toHaveBeenCalledTimes(1);
    expect(String(error.mock.calls[0][0])).toMatch(/refused a click of tracker "net"/);
  });

  it('writes what is queued at shutdown, and refuses landings after it', async () => {
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const buffer = bufferOf(60_000);
    buffer.add(row('a', 1));
    buffer.add(row('b', 1));
    await buffer.beforeApplicationShutdown();
    expect(await stored()).toHaveLength(2);
    expect(buffer.add(row('late', 2))).toBe(false);
    expect(buffer.pending).toBe(0);
  });

  it('says how many clicks it could not write at shutdown when the database keeps failing', async () => {
    const error = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    const buffer = bufferOf(60_000);
    buffer.add(row('a', 1));
    failNext = [1, 2, 3].map(() => new Error('disk I/O error'));
    await buffer.beforeApplicationShutdown();
    expect(transactions).toBe(3);
    expect(String(error.mock.calls.at(-1)?.[0])).toMatch(/Shutting down with 1 clicks/);
  });

  it('with bufferMs 0, writes each click as soon as the database is free', async () => {
    const buffer = bufferOf(0);
    buffer.add(row('a', 1));
    await sleep(10);
    expect(await stored()).toHaveLength(1);
    buffer.add(row('b', 2));
    await sleep(10);
    expect(await stored()).toHaveLength(2);
    expect(transactions).toBe(2);
  });

  it('flushNow writes what waits now, and costs nothing when nothing waits', async () => {
    const buffer = bufferOf(60_000);
    await buffer.flushNow();
    expect(transactions).toBe(0);
    buffer.add(row('a', 1));
    await buffer.flushNow();
    expect(transactions).toBe(1);
    expect(await stored()).toHaveLength(1);
  });
});
