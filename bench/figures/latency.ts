/** The time from an event posted to its postback received, at a steady rate (SQLite). */
import { poll } from '../../test/utils/poll.js';
import { finish, running, start } from '../lib/children.js';
import type { FigureSpec } from '../lib/figure.js';
import { openLoop } from '../lib/load.js';
import { fmt, progress } from '../lib/progress.js';
import { sized } from '../lib/quick.js';
import { receiverStats, receiverUrl } from '../lib/receiver.js';
import { percentile } from '../lib/stats.js';
import { purchase } from '../lib/tracker.js';

export const LATENCY = sized(
  { rate: 200, seconds: 10, warmupSeconds: 2 },
  { seconds: 2, warmupSeconds: 1 },
);

export const LATENCY_FIGURE: FigureSpec = {
  id: 'latency',
  figure: `event → postback received at ${LATENCY.rate} events/s (SQLite)`,
  unit: 'ms',
  target: 'p50 ≤ 50 ms, p99 ≤ 500 ms',
  timeBoxMs: 120_000,
  settings: { key: 'latency', values: LATENCY },
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
};
