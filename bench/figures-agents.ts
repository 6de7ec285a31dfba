/**
 * The figures of the agent as operators run it: record() and a three-process drain on
 * PostgreSQL, the latency from event to postback at a steady rate, and memory while a million
 * postbacks drain.
 */
import pg from 'pg';
import { poll } from '../test/utils/poll.js';

import { percentile, perItemUs, processesCpuMs, tempDir } from './common.js';
import { type FigureSpec, medianOfPairs, purchase, ratioAtLeast, type Run } from './figures.js';
import { openLoop } from './load.js';
import {
  type Child,
  dropScratch,
  finish,
  fmt,
  measureInChild,
  postgresScratch,
  preciseNow,
  progress,
  receiverStats,
  receiverUrl,
  running,
  sleep,
  start,
} from './orchestrator.js';

export const RECORD_PG = { count: 10_000, warmup: 1_000, concurrency: 16, pairs: 3 };
export const DRAIN_PG = {
  count: 20_000,
  processes: 3,
  /**
   * Per agent (the baseline gets 3 × the concurrency); otherwise the defaults a merchant gets,
   * but for a short schedule, as in test/databases/multi-process.db-spec.ts.
   */
  outbox: { concurrency: 16, flushIntervalMs: 100, shutdownGraceMs: 2_000 },
  deadlineMs: 150_000,
  /** Pairs of runs (see `medianOfPairs`). */
  pairs: 3,
};
export const LATENCY = { rate: 200, seconds: 10, warmupSeconds: 2 };
export const RSS = { pending: 1_000_000, windowSeconds: 360, idleSeconds: 3, limitMb: 150 };

/** Asks every child for its status at once. */
const statuses = (children: Child[], options: { counts?: boolean } = {}) =>
  Promise.all(children.map((c) => c.status(options)));

function stopAll(children: Child[]): Promise<(Record<string, unknown> | undefined)[]> {
  return Promise.all(children.map((c) => finish(c)));
}

export const AGENT_FIGURES: FigureSpec[] = [
  {
    id: 'record-pg',
    figure: `ConversionService.record()/s (PostgreSQL, ${RECORD_PG.concurrency} callers)`,
    unit: 'events/s',
    target: '≥ 0.6×',
    timeBoxMs: 240_000,
    async run() {
      // A fresh scratch database for each run, so no run writes into another's indexes. The
      // server is shared with whoever else uses it (tests are not under the bench lock): the
      // two sides run in pairs, and the median pair is judged.
      const measure = async (mode: 'module' | 'bare', round: number) => {
        const scratch = await postgresScratch();
        try {
          const result = (await measureInChild(
            `record-pg-${mode}-${round}`,
            'record.js',
            { mode, url: scratch.url, ...RECORD_PG },
            80_000,
          )) as Run;
          const label = mode === 'module' ? 'record()' : 'bare pg transaction';
          progress(`  ${label}: ${fmt(result.perSecond)}/s`);
          return result;
        } finally {
          await dropScratch(scratch);
        }
      };
      const { module, bare, pairs } = await medianOfPairs(
        RECORD_PG.pairs,
        (pair) => measure('module', pair),
        (pair) => measure('bare', pair),
      );
      return {
        ...ratioAtLeast(0.6)(module.perSecond, bare.perSecond),
        details: {
          module,
          bare,
          pairs,
        },
      };
    },
  },
  {
    id: 'drain-pg',
    figure: `outbox drain postbacks/s, ${DRAIN_PG.processes} agents on PostgreSQL`,
    unit: 'postbacks/s',
    target: '≥ 0.8×, exactly once',
    timeBoxMs: 480_000,
    async run() {
      const url = await receiverUrl();
      const { count, processes, outbox } = DRAIN_PG;
      // One round of the module: a fresh scratch database, seeded, three agents draining it.
      const drainRound = async (round: number) => {
        const scratch = await postgresScratch();
        const agents: Child[] = [];
        try {
          // Seeded not yet due, so that no agent starts before the others are up.
          const seeded = await measureInChild(
            `drain-pg-seed-${round}`,
            'seed.js',
            { url: scratch.url, count, 'due-in': 86_400_000 },
            120_000,
          );
          progress(
            `  seeded ${fmt(count)} pending postbacks in ${fmt(seeded.seconds as number, 1)} s`,
          );
          for (let i = 1; i <= processes; i++) {
            agents.push(
              start(`drain-pg-agent-${i}-${round}`, 'events-server.js', {
                // Each agent posts to its own path: the receiver tells who sent what.
                receiver: `${url}/agent-${i}`,
                database: scratch.url,
                outbox: JSON.stringify(outbox),
              }),
            );
          }
          await Promise.all(agents.map((a) => a.next('ready', 60_000)));
          await receiverStats({ reset: true });
          const postgresCpuBefore = processesCpuMs('postgres');
          // Every row due at one instant; each agent's schedule (every 100 ms) finds them.
          const client = new pg.Client({ connectionString: scratch.url });
          await client.connect();
          let dueAt: number;
          try {
            await client.query('UPDATE postback_outbox SET next_attempt_at = created_at');
            dueAt = preciseNow();
          } finally {
            await client.end();
          }
          const received = await poll(
            async () => {
              const stats = await receiverStats({ reset: false });
              return stats.received >= count ? stats : undefined;
            },
            DRAIN_PG.deadlineMs,
            `all ${count} postbacks at the receiver`,
          );
          const seconds = ((received.lastArrivalAt as number) - dueAt) / 1000;
          // The last sends settle after their answer; then look for late duplicates.
          const [counts] = await poll(
            async () => {
              const [status] = await statuses([agents[0]], { counts: true });
              const outboxRows = status.outbox as Record<string, number>;
              return (outboxRows.pending ?? 0) + (outboxRows.in_flight ?? 0) === 0
                ? [status]
                : undefined;
            },
            15_000,
            'the outbox to settle',
          );
          await sleep(500);
          const final = await receiverStats({ reset: true });
          const postgresCpuMs = processesCpuMs('postgres') - postgresCpuBefore;
          const agentStats = await stopAll(agents);
          const errorsLogged = agentStats.reduce((sum, s) => sum + Number(s?.errorsLogged ?? 0), 0);
          const perSecond = count / seconds;
          progress(
            `  ${processes} agents: ${fmt(perSecond)}/s (${fmt(seconds, 1)} s; per agent ${JSON.stringify(final.byPath)})`,
          );
          const outboxRows = counts.outbox as Record<string, number>;
          const attempts = counts.attempts as Record<string, number>;
          const exactlyOnce =
            final.received === count &&
            final.distinctTxids === count &&
            final.duplicates === 0 &&
            outboxRows.delivered === count &&
            attempts.delivered === count &&
            Object.keys(attempts).length === 1;
          return {
            perSecond,
            seconds,
            exactlyOnce,
            errorsLogged,
            received: { ...final, firstAfterDueMs: (final.firstArrivalAt as number) - dueAt },
            outbox: outboxRows,
            attempts,
            seedSeconds: seeded.seconds,
            // Where the CPU went, µs per postback: each agent's threads (from start-up's end,
            // so a little idle time too), PostgreSQL's processes, the receiver.
            cpuUsPerPostback: {
              agents: agentStats.map((a) =>
                perItemUs((a?.cpuMsByThread ?? {}) as Record<string, number>, count),
              ),
              postgres: Math.round((postgresCpuMs * 1000) / count),
              receiver: Math.round((final.cpu.user + final.cpu.system) / count),
            },
            agents: agentStats.map((a) => ({
              peakRssMb: a?.peakRssMb,
              errorsLogged: a?.errorsLogged,
            })),
          };
        } finally {
          for (const agent of agents) {
            agent.kill();
            running.delete(agent);
          }
          await dropScratch(scratch);
        }
      };
      const rounds: Run[] = [];
      const median = await medianOfPairs(
        DRAIN_PG.pairs,
        async (round) => {
          const result = await drainRound(round);
          rounds.push(result);
          return result;
        },
        async (round) => {
          const bare = (await measureInChild(
            `drain-pg-axios-${round}`,
            'drain.js',
            { mode: 'axios', receiver: url, count, concurrency: processes * outbox.concurrency },
            60_000,
          )) as Run;
          await receiverStats({ reset: true });
          progress(
            `  bare axios loop, ${processes * outbox.concurrency} in flight: ${fmt(bare.perSecond)}/s`,
          );
          return bare;
        },
      );
      // Exactly once and without errors in every round, not only the median one.
      const exactlyOnce = rounds.every((r) => r.exactlyOnce === true);
      const errorsLogged = rounds.reduce((sum, r) => sum + Number(r.errorsLogged), 0);
      const ratio = ratioAtLeast(0.8)(median.module.perSecond, median.bare.perSecond);
      return {
        ...ratio,
        met: ratio.met && exactlyOnce && errorsLogged === 0,
        details: {
          count,
          perAgentOutbox: outbox,
          exactlyOnce,
          errorsLogged,
          module: median.module,
          bare: median.bare,
          pairs: median.pairs,
        },
      };
    },
  },
  {
    id: 'latency',
    figure: `event → postback received at ${LATENCY.rate} events/s (SQLite)`,
    unit: 'ms',
    target: 'p50 ≤ 50 ms, p99 ≤ 500 ms',
    timeBoxMs: 120_000,
    async run() {
      const url = await receiverUrl();
      // The agent's default outbox settings: what a merchant gets.
      const server = start('latency-agent', 'events-server.js', { receiver: url, outbox: '{}' });
      try {
        const { port } = await server.next('ready', 20_000);
        const post = (prefix: string, seconds: number) =>
          openLoop(port as number, '/v1/events', LATENCY.rate, seconds, (n) => {
            const json = purchase(prefix, n);
            return { key: json.orderId, json };
          });
        const allArrived = (count: number) =>
          poll(
            async () => {
              const stats = await receiverStats({ reset: false, arrivals: true });
              return stats.distinctTxids >= count ? stats : undefined;
            },
            30_000,
            `${count} postbacks at the receiver`,
          );
        // Warm-up (not counted): the same rate, then wait for its postbacks.
        await receiverStats({ reset: true });
        const warm = await post('warm', LATENCY.warmupSeconds);
        await allArrived(warm.sentAt.size);
        await receiverStats({ reset: true });

        const run = await post('lat', LATENCY.seconds);
        const count = run.sentAt.size;
        const received = await allArrived(count).catch(() =>
          receiverStats({ reset: false, arrivals: true }),
        );
        await receiverStats({ reset: true });
        const arrivals = received.arrivals ?? {};
        const latencies: number[] = [];
        for (const [orderId, sentAt] of run.sentAt) {
          const arrivedAt = arrivals[orderId];
          if (arrivedAt !== undefined) latencies.push(arrivedAt - sentAt);
        }
        latencies.sort((a, b) => a - b);
        const p = (q: number) => percentile(latencies, q);
        const accepted = run.statuses['202'] ?? 0;
        const stats = await finish(server);
        const matched = latencies.length;
        progress(
          `  ${fmt(matched)}/${fmt(count)} matched: p50 ${fmt(p(50), 1)} ms, p95 ${fmt(p(95), 1)} ms, p99 ${fmt(p(99), 1)} ms, max ${fmt(latencies[matched - 1], 1)} ms`,
        );
        return {
          value: p(50),
          met:
            matched === count &&
            accepted === count &&
            received.duplicates === 0 &&
            p(50) <= 50 &&
            p(99) <= 500,
          display: {
            value: `p50 ${fmt(p(50), 1)}, p99 ${fmt(p(99), 1)} ms`,
            baseline: `${fmt(matched)}/${fmt(count)} arrived`,
          },
          details: {
            rate: LATENCY.rate,
            seconds: run.seconds,
            sent: count,
            accepted,
            statuses: run.statuses,
            matched,
            duplicates: received.duplicates,
            latencyMs: { p50: p(50), p95: p(95), p99: p(99), max: latencies[matched - 1] },
            eventResponseMs: {
              p50: percentile(run.responseMs, 50),
              p99: percentile(run.responseMs, 99),
              max: run.responseMs[run.responseMs.length - 1],
            },
            generatorMaxLagMs: run.maxLagMs,
            outbox: 'agent defaults (flushIntervalMs 5000, nudge after each event)',
            server: stats,
          },
        };
      } finally {
        server.kill();
        running.delete(server);
      }
    },
  },
  {
    id: 'rss',
    figure: `peak RSS draining ${fmt(RSS.pending)} pending postbacks (SQLite)`,
    unit: 'MB',
    target: `≤ idle + ${RSS.limitMb} MB`,
    // Seeding (~25 s), the idle sample, and a drain of the whole million (~5 min here).
    timeBoxMs: 480_000,
    async run() {
      const url = await receiverUrl();
      const dir = tempDir('rss');
      const database = `sqlite:${dir.path}/agent.sqlite`;
      try {
        const seeded = await measureInChild(
          'rss-seed',
          'seed.js',
          { url: database, count: RSS.pending, how: 'raw' },
          180_000,
        );
        progress(
          `  seeded ${fmt(RSS.pending)} pending postbacks in ${fmt(seeded.seconds as number, 1)} s`,
        );

        // Idle: the same agent on an empty outbox, after start-up (2 s to settle, then the
        // peak over a few seconds).
        const idleAgent = start('rss-idle-agent', 'events-server.js', {
          receiver: url,
          outbox: '{}',
        });
        await idleAgent.next('ready', 30_000);
        await sleep(2_000);
        const idleStartUp = await idleAgent.status({ resetPeak: true });
        await sleep(RSS.idleSeconds * 1_000);
        const idle = await idleAgent.status();
        await finish(idleAgent);
        const idleMb = idle.peakRssMb as number;
        progress(`  idle agent: ${idleMb} MB`);

        // Draining: the agent's defaults, started on the seeded file; it drains from boot.
        await receiverStats({ reset: true });
        const agent = start('rss-drain-agent', 'events-server.js', {
          receiver: url,
          database,
          outbox: '{}',
        });
        const started = preciseNow();
        await agent.next('ready', 60_000);
        // From here on: start-up's own peak (both agents have one; the idle figure leaves it
        // out too) is reported apart.
        const atReady = await agent.status({ resetPeak: true });
        const deadline = started + RSS.windowSeconds * 1_000;
        let received = await receiverStats({ reset: false });
        while (received.received < RSS.pending && preciseNow() < deadline) {
          await sleep(1_000);
          received = await receiverStats({ reset: false });
        }
        const drainSeconds = (preciseNow() - started) / 1000;
        const complete = received.received >= RSS.pending;
        // The peak first: counting a million rows is not part of draining them.
        const atPeak = await agent.status();
        const peakMb = atPeak.peakRssMb as number;
        const outboxRows = (await agent.status({ counts: true }, 60_000)).outbox as Record<
          string,
          number
        >;
        const stats = await finish(agent);
        await receiverStats({ reset: true });
        progress(
          `  peak ${peakMb} MB; ${fmt(received.received)} sent in ${fmt(drainSeconds, 0)} s (${fmt(received.received / drainSeconds)}/s)${complete ? '' : `, window of ${RSS.windowSeconds} s over`}`,
        );
        return {
          value: peakMb,
          baseline: idleMb,
          ratio: peakMb / idleMb,
          met: peakMb <= idleMb + RSS.limitMb && received.duplicates === 0,
          ...(!complete && {
            caveat: `${fmt(received.received)} of ${fmt(RSS.pending)} sent in the window`,
          }),
          display: complete
            ? undefined
            : {
                value: `${fmt(peakMb)} MB (first ${RSS.windowSeconds} s)`,
              },
          details: {
            pending: RSS.pending,
            window: complete
              ? `drained all ${fmt(RSS.pending)}`
              : `stopped after the ${RSS.windowSeconds} s window: ${fmt(received.received)} of ${fmt(RSS.pending)} sent`,
            complete,
            sent: received.received,
            duplicates: received.duplicates,
            drainSeconds,
            perSecond: received.received / drainSeconds,
            outboxAtEnd: outboxRows,
            growthOverIdleMb: peakMb - idleMb,
            mainThreadAtPeakMb: atPeak.atPeakMb,
            idle: { ...idle, startUpPeakMb: idleStartUp.peakRssMb },
            rssTimelineMb: stats?.rssTimelineMb,
            seedSeconds: seeded.seconds,
            errorsLogged: stats?.errorsLogged,
            rssAtReadyMb: atReady.rssMb,
            startUpPeakMb: atReady.peakRssMb,
          },
        };
      } finally {
        dir.remove();
      }
    },
  },
];
