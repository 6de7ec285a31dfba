/** POST /v1/events per second on the agent (SQLite), against a bare route of the same app. */
import { finish, start } from '../lib/children.js';
import { type FigureSpec, ratioAtLeast } from '../lib/figure.js';
import { LOAD, load } from '../lib/load.js';
import { medianPair, pairOf } from '../lib/pairs.js';
import { progress } from '../lib/progress.js';
import { sized } from '../lib/quick.js';
import { receiverStats, receiverUrl } from '../lib/receiver.js';
import { purchase } from '../lib/tracker.js';

/** Pairs of runs (see `medianPair`). */
const EVENTS = sized({ pairs: 5 }, { pairs: 1 });

export const EVENTS_FIGURE: FigureSpec = {
  id: 'events',
  figure: 'POST /v1/events/s (SQLite)',
  unit: 'events/s',
  target: '≥ 0.35×',
  timeBoxMs: 240_000,
  perSqliteLevel: true,
  async run(synchronous) {
    const url = await receiverUrl();
    // One pair: a fresh agent, its bare route, then events (once events ran, the flusher
    // may still be sending their postbacks, so the bare route always goes first).
    const measurePair = async (n: number) => {
      const server = start(`events-server-${synchronous}-${n}`, 'events-server.js', {
        receiver: url,
        synchronous,
      });
      try {
        const { port } = await server.next('ready', 20_000);
        const body = (i: number, prefix: string) => JSON.stringify(purchase(prefix, i));
        const headers = { 'content-type': 'application/json' };
        const bare = await load(
          port as number,
          (i) => ({ method: 'POST', path: '/bench/noop', headers, body: body(i, 'noop') }),
          'bare route',
        );
        await receiverStats({ reset: true });
        const events = await load(
          port as number,
          (i) => ({ method: 'POST', path: '/v1/events', headers, body: body(i, `ev${n}`) }),
          'POST /v1/events',
        );
        const received = await receiverStats({ reset: true });
        progress(`  pair ${n}: ${(events.perSecond / bare.perSecond).toFixed(2)}×`);
        return { bare, events, received, server: await finish(server) };
      } finally {
        server.kill();
      }
    };
    const measured = [];
    for (let n = 1; n <= EVENTS.pairs; n++) measured.push(await measurePair(n));
    const median = medianPair(measured.map((r) => pairOf(r.events, r.bare)));
    return {
      ...ratioAtLeast(0.35)(median.module.perSecond, median.bare.perSecond),
      details: {
        connections: LOAD.connections,
        seconds: LOAD.seconds,
        events: median.module,
        bareRoute: median.bare,
        pairs: measured.map((r) => ({
          events: r.events.perSecond,
          bareRoute: r.bare.perSecond,
          ratio: r.events.perSecond / r.bare.perSecond,
          postbacksReceivedDuringEventsRun: r.received.received,
          server: r.server,
        })),
      },
    };
  },
};
