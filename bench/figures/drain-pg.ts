/**
 * The outbox drained by three agent processes sharing one PostgreSQL database, each postback
 * sent exactly once, against a bare axios loop with as many requests in flight.
 */
import pg from 'pg';

import { poll } from '../../test/utils/poll.js';
import { sleep } from '../lib/abort.js';
import { type Child, finish, measureInChild, running, start } from '../lib/children.js';
import { perItemUs, processesCpuMs } from '../lib/cpu.js';
import { type FigureSpec, ratioAtLeast } from '../lib/figure.js';
import { medianOfPairs, type Run } from '../lib/pairs.js';
import { fmt, preciseNow, progress } from '../lib/progress.js';
import { sized } from '../lib/quick.js';
import { receiverStats, receiverUrl } from '../lib/receiver.js';
import { dropScratch, postgresScratch } from '../lib/scratch.js';

export const DRAIN_PG = sized(
  {
    count: 20_000,
    processes: 3,
    /**
     * Per agent (the baseline gets 3 × the concurrency); otherwise the defaults a merchant
     * gets, but for a short schedule, as in test/databases/multi-process.db-spec.ts.
     */
    outbox: { concurrency: 16, flushIntervalMs: 100, shutdownGraceMs: 2_000 },
    deadlineMs: 150_000,
    /** Pairs of runs (see `medianOfPairs`). */
    pairs: 3,
  },
  { count: 2_000, pairs: 1 },
);

/** Asks every child for its status at once. */
const statuses = (children: Child[], options: { counts?: boolean } = {}) =>
  Promise.all(children.map((c) => c.status(options)));

function stopAll(children: Child[]): Promise<(Record<string, unknown> | undefined)[]> {
  return Promise.all(children.map((c) => finish(c)));
}

/** One round of the module: a fresh scratch database, seeded, three agents draining it. */
async function drainRound(url: string, round: number): Promise<Run> {
  const { count, processes, outbox } = DRAIN_PG;
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
    progress(`  seeded ${fmt(count)} pending postbacks in ${fmt(seeded.seconds as number, 1)} s`);
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
        return (outboxRows.pending ?? 0) + (outboxRows.in_flight ?? 0) === 0 ? [status] : undefined;
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
}

export const DRAIN_PG_FIGURE: FigureSpec = {
  id: 'drain-pg',
  figure: `outbox drain postbacks/s, ${DRAIN_PG.processes} agents on PostgreSQL`,
  unit: 'postbacks/s',
  target: '≥ 0.8×, exactly once',
  timeBoxMs: 480_000,
  settings: { key: 'drainPostgres', values: DRAIN_PG },
  async run() {
    const url = await receiverUrl();
    const { count, processes, outbox } = DRAIN_PG;
    const rounds: Run[] = [];
    const median = await medianOfPairs(
      DRAIN_PG.pairs,
      async (round) => {
        const result = await drainRound(url, round);
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
};
