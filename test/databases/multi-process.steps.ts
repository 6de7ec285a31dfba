import pg from 'pg';
import type { DataSource } from 'typeorm';

import type { OutboxOptions } from '../../src/interfaces/index.js';
import { DeliveryAttempt } from '../../src/outbox/delivery-attempt.entity.js';
import type { Postback } from '../../src/outbox/postback.entity.js';
import type { FakeTracker } from '../../src/testing/index.js';
import type { AgentProcess } from '../utils/agent-process.js';
import {
  type Counts,
  countBy,
  databaseCounts,
  type Fleet,
  groupBy,
  healthCounts,
  parse,
  type Request,
} from '../utils/agent-fleet.js';
import type { ScratchDatabase } from '../utils/db-servers.js';
import type { TestDatabase } from '../utils/test-databases.js';
import { eventually, sleep } from '../utils/wait.js';

/** The steps multi-process.db-spec.ts tells its scenarios in. */

/** Retries within a fraction of a second, should any attempt fail. */
export const FAST_RETRY: OutboxOptions['retry'] = {
  initialDelayMs: 200,
  multiplier: 1,
  jitter: 0,
  maxAttempts: 20,
};

export const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const randomBetween = (min: number, max: number) => min + Math.floor(Math.random() * (max - min));

/**
 * Purchases of `orderIds` through the agent's API, 20 at a time, each naming its click
 * (`click-<orderId>`); every one accepted and queued. Returns each order's postback ID.
 */
export async function recordPurchases(
  agent: AgentProcess,
  orderIds: string[],
): Promise<Map<string, string>> {
  const postbackOfOrder = new Map<string, string>();
  for (let i = 0; i < orderIds.length; i += 20) {
    const responses = await Promise.all(
      orderIds.slice(i, i + 20).map((orderId) =>
        agent.post<{ postbackId?: string; queued?: boolean; duplicate?: boolean }>('/v1/events', {
          type: 'purchase',
          orderId,
          amount: '10.00',
          currency: 'EUR',
          clickId: `click-${orderId}`,
        }),
      ),
    );
    responses.forEach((response, k) => {
      expect({
        status: response.status,
        queued: response.body.queued,
        duplicate: response.body.duplicate,
      }).toEqual({ status: 202, queued: true, duplicate: false });
      postbackOfOrder.set(orderIds[i + k], response.body.postbackId as string);
    });
  }
  return postbackOfOrder;
}

export interface Kill {
  incarnation: string;
  sentByIt: number;
  unansweredAtKill: number;
  receivedSoFar: number;
  counts?: Counts;
}

/**
 * SIGKILLs `agent` right after one of its sends went out, while the tracker holds the answer
 * for `answerMs`: mid-flush by construction. Waits first for it to be sending (rows leased by
 * an incarnation killed before come back once `leaseMs` expires).
 */
export async function killWhileSending(
  agent: AgentProcess,
  tracker: FakeTracker,
  { leaseMs, answerMs }: { leaseMs: number; answerMs: number },
): Promise<Kill> {
  const path = `/postback/${agent.name}`;
  const sentBy = () => tracker.received.filter((r) => parse(r).path === path).length;
  await eventually(() => sentBy() > 0, leaseMs + 10_000, `${agent.name} to send`);
  await sleep(randomBetween(100, 600));
  const counts = await healthCounts(agent);
  await eventually(
    () => tracker.received.some((r) => r.receivedAt > Date.now() - 60 && parse(r).path === path),
    leaseMs + 10_000,
    `${agent.name} to be sending`,
  );
  const killedAt = Date.now();
  await agent.kill('SIGKILL');
  expect(agent.exitSignal).toBe('SIGKILL');
  return {
    incarnation: agent.name,
    sentByIt: sentBy(),
    // Requests whose answer cannot have been recorded before the kill.
    unansweredAtKill: tracker.received.filter(
      (r) => parse(r).path === path && r.receivedAt > killedAt - answerMs,
    ).length,
    receivedSoFar: tracker.received.length,
    counts,
  };
}

/** Each kill hit a flush in progress: that incarnation had sent, and some of it was unanswered. */
export function expectEveryKillMidFlush(kills: Kill[], expected: number): void {
  expect(kills).toHaveLength(expected);
  for (const kill of kills) {
    expect({
      incarnation: kill.incarnation,
      sent: kill.sentByIt > 0,
      midFlush: kill.unansweredAtKill > 0,
    }).toEqual({ incarnation: kill.incarnation, sent: true, midFlush: true });
  }
}

/**
 * Waits, asking the database, until all `count` rows are delivered, dead or cancelled; `progress`
 * collects a line every 5 s.
 */
export async function drained(
  dataSource: DataSource,
  count: number,
  progress: string[],
): Promise<Counts> {
  const started = Date.now();
  return eventually(
    async () => {
      const now = await databaseCounts(dataSource);
      if (progress.length === 0 || Date.now() - started > progress.length * 5_000) {
        progress.push(`${seconds(Date.now() - started)}: ${now.delivered} delivered`);
      }
      return now.delivered + now.dead + now.cancelled === count ? now : undefined;
    },
    100_000,
    `all ${count} postbacks to be delivered`,
    250,
  ).catch(async (error: Error) => {
    throw new Error(`${error.message}; counts ${JSON.stringify(await databaseCounts(dataSource))}`);
  });
}

/** Delivery attempts per outcome and status code. */
export async function attemptOutcomes(
  dataSource: DataSource,
): Promise<{ outcome: string; status: number; n: number }[]> {
  const rows: { outcome: string; status: number | null; n: string | number }[] = await dataSource
    .createQueryBuilder(DeliveryAttempt, 'a')
    .select('a.outcome', 'outcome')
    .addSelect('a.status_code', 'status')
    .addSelect('COUNT(*)', 'n')
    .groupBy('a.outcome')
    .addGroupBy('a.status_code')
    .getRawMany();
  return rows.map((a) => ({ outcome: a.outcome, status: Number(a.status), n: Number(a.n) }));
}

/** Every order reached the tracker, always with its own one event ID. Returns requests by order. */
export function expectOneEventIdPerOrder(
  requests: Request[],
  postbackOfOrder: Map<string, string>,
): Map<string, Request[]> {
  const byOrder = groupBy(requests, (r) => r.txid as string);
  for (const [orderId, sent] of byOrder) {
    expect({ orderId, pbIds: [...new Set(sent.map((r) => r.pbId))] }).toEqual({
      orderId,
      pbIds: [postbackOfOrder.get(orderId)],
    });
  }
  return byOrder;
}

/** Delivered only on a recorded 2xx: the delivered rows without the attempt that delivered them. */
export function deliveredWithoutA2xx(rows: Postback[], attempts: DeliveryAttempt[]): string[] {
  const proven = new Set(
    attempts
      .filter(
        (a) =>
          a.outcome === 'delivered' &&
          a.statusCode !== null &&
          a.statusCode >= 200 &&
          a.statusCode < 300,
      )
      .map((a) => a.postbackId),
  );
  return rows.filter((r) => r.state === 'delivered' && !proven.has(r.id)).map((r) => r.id);
}

/** Orders sent more than once, for the log: `KILL-7×2 via run-1+run-2`. */
export function describeResends(byOrder: Map<string, Request[]>): string {
  const resent = [...byOrder].filter(([, sent]) => sent.length > 1);
  const shown = resent
    .slice(0, 20)
    .map(
      ([orderId, sent]) =>
        `${orderId}×${sent.length} via ${sent.map((r) => r.path.split('/').pop()).join('+')}`,
    )
    .join(', ');
  return `${resent.length} orders sent more than once: ${shown}${resent.length > 20 ? ', …' : ''}`;
}

/** ERROR lines counted by their text, IDs and scratch database names masked. */
export function summariseErrors(errors: string[]): string {
  return Object.entries(
    countBy(errors, (line) =>
      line
        .replace(/^.*ERROR /, '')
        .replace(/[0-9a-f]{8}-[0-9a-f-]{27}/g, '<id>')
        .replace(/postback_test_\w+/g, '<scratch>'),
    ),
  )
    .map(([line, n]) => `  ${n}× ${line}`)
    .join('\n');
}

/**
 * A connection to the PostgreSQL server's `test` database, from which the scratch database
 * can be closed to connections; cleanup opens it again.
 */
export async function postgresAdmin(
  fleet: Fleet,
  server: NonNullable<TestDatabase['server']>,
  database: ScratchDatabase,
): Promise<pg.Client> {
  const admin = new pg.Client({
    host: server.engine.host,
    port: server.engine.port,
    user: server.probe.user,
    database: 'test',
  });
  await admin.connect();
  fleet.onCleanUp(async () => {
    await admin
      .query(`ALTER DATABASE "${database.name}" ALLOW_CONNECTIONS true`)
      .catch(() => undefined);
    await admin.end();
  });
  return admin;
}

/**
 * The database refuses connections for `outageMs` and its open ones are terminated; halfway,
 * the agent's /health is asked. Returns how many connections were cut and what /health said.
 */
export async function databaseOutage(
  admin: pg.Client,
  database: ScratchDatabase,
  agent: AgentProcess,
  outageMs: number,
): Promise<{ terminated: number; healthDuringOutage: number | string }> {
  await admin.query(`ALTER DATABASE "${database.name}" ALLOW_CONNECTIONS false`);
  let terminated = 0;
  let healthDuringOutage: number | string = 'not asked';
  try {
    const result = await admin.query(
      'SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
      [database.name],
    );
    terminated = result.rows.filter((r: { ok: boolean }) => r.ok).length;
    await sleep(outageMs / 2);
    healthDuringOutage = await agent
      .get('/health')
      .then((r) => r.status)
      .catch((error: Error) => error.message);
    await sleep(outageMs / 2);
  } finally {
    await admin.query(`ALTER DATABASE "${database.name}" ALLOW_CONNECTIONS true`);
  }
  return { terminated, healthDuringOutage };
}
