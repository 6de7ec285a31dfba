/**
 * The locked-database figure (issue 15, point 2): another process holds SQLite's write lock
 * (`BEGIN IMMEDIATE`) for 10 s, and meanwhile
 *
 * - landings hit a shop whose clicks are written on the event loop's connection (the module
 *   on a DataSource without the writer thread, as on a host's shared DataSource): their p99,
 *   against the same shop's p99 just before the lock;
 * - events are posted to the agent at a fixed rate (open loop): their answers, p99, and
 *   whether every one answered 202 is stored (none lost) once the lock is gone.
 *
 * The event loop's worst delay in each server is reported beside them: a synchronous busy
 * wait shows there as the length of the lock.
 */
import { holdSqliteWriteLock } from '../../test/utils/sqlite-lock-holder.js';
import { finish, start } from '../lib/children.js';
import type { FigureSpec } from '../lib/figure.js';
import { load, openLoop } from '../lib/load.js';
import { fmt, progress } from '../lib/progress.js';
import { sized } from '../lib/quick.js';
import { receiverUrl } from '../lib/receiver.js';
import { percentile } from '../lib/stats.js';
import { purchase } from '../lib/tracker.js';

export const LOCK = sized(
  { holdMs: 10_000, eventsPerSecond: 50, landingP99TargetMs: 250 },
  { holdMs: 5_000 },
);

const landingPath = (prefix: string) => (n: number) => ({
  method: 'GET',
  path: `/landing?cid=${prefix}-${n}`,
});

export const LOCK_FIGURE: FigureSpec = {
  id: 'lock',
  figure: `landing p99 and events while another process holds the write lock ${LOCK.holdMs / 1_000} s (SQLite)`,
  unit: 'ms',
  target: `landing p99 ≤ ${LOCK.landingP99TargetMs} ms, no 202 lost`,
  timeBoxMs: 150_000,
  async run() {
    const url = await receiverUrl();

    // Landings: the shop without the writer thread, its p99 before and during the lock.
    const shop = start('lock-landing', 'landing-server.js', {
      capture: 'on',
      receiver: url,
      writerThread: 'off',
    });
    const { port: shopPort, file: shopFile } = await shop.next('ready', 20_000);
    const unlocked = await load(shopPort as number, landingPath('free'), 'landing, no lock');
    await shop.status({ resetPeak: true });
    const shopLock = await holdSqliteWriteLock(String(shopFile), LOCK.holdMs);
    // Its warm-up and measured run (LOAD) both fall inside the lock.
    const locked = await load(shopPort as number, landingPath('held'), 'landing, lock held');
    const shopStatus = await shop.status();
    await shopLock.released;
    const shopStats = await finish(shop);

    // Events: the agent (writer thread on), a fixed rate for as long as the lock lasts.
    const agent = start('lock-events', 'events-server.js', { receiver: url });
    const { port: agentPort, file: agentFile } = await agent.next('ready', 20_000);
    await agent.status({ resetPeak: true });
    const agentLock = await holdSqliteWriteLock(String(agentFile), LOCK.holdMs);
    const events = await openLoop(
      agentPort as number,
      '/v1/events',
      LOCK.eventsPerSecond,
      LOCK.holdMs / 1_000,
      (n) => ({ key: String(n), json: purchase('locked', n) }),
    );
    await agentLock.released;
    const agentStatus = await agent.status();
    const agentStats = await finish(agent);
    const accepted = events.statuses['202'] ?? 0;
    const stored = Number(agentStats?.conversions ?? NaN);
    const eventsP99 = percentile(events.responseMs, 99);
    progress(
      `  events during the lock: ${JSON.stringify(events.statuses)}, p99 ${fmt(eventsP99)} ms, ${stored} stored`,
    );

    const met = locked.latencyP99Ms <= LOCK.landingP99TargetMs && stored === accepted;
    return {
      value: locked.latencyP99Ms,
      baseline: unlocked.latencyP99Ms,
      ratio: locked.latencyP99Ms / unlocked.latencyP99Ms,
      met,
      display: {
        value:
          `landing p99 ${fmt(locked.latencyP99Ms)} ms (${fmt(locked.perSecond)} req/s); ` +
          `events ${Object.entries(events.statuses)
            .map(([status, count]) => `${count}×${status}`)
            .join(' ')}, p99 ${fmt(eventsP99)} ms, ${stored}/${accepted} stored`,
        baseline: `landing p99 ${fmt(unlocked.latencyP99Ms)} ms (${fmt(unlocked.perSecond)} req/s)`,
      },
      details: {
        holdMs: LOCK.holdMs,
        landing: { unlocked, locked, server: shopStatus, stats: shopStats },
        events: {
          ratePerSecond: LOCK.eventsPerSecond,
          statuses: events.statuses,
          p50Ms: percentile(events.responseMs, 50),
          p99Ms: eventsP99,
          maxMs: events.responseMs.at(-1),
          accepted,
          stored,
          server: agentStatus,
          stats: agentStats,
        },
      },
    };
  },
};
