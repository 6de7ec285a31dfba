/**
 * The outbox drained on SQLite (OutboxFlusher.flush() until every row is delivered), against
 * a bare axios loop sending the same requests; every round delivers each postback once.
 */
import { measureInChild } from '../lib/children.js';
import { type FigureSpec, ratioAtLeast } from '../lib/figure.js';
import { medianOfPairs, type Run } from '../lib/pairs.js';
import { fmt, progress } from '../lib/progress.js';
import { sized } from '../lib/quick.js';
import { receiverStats, receiverUrl } from '../lib/receiver.js';

export const DRAIN = sized(
  { count: 20_000, concurrency: 16, pairs: 5 },
  { count: 2_000, pairs: 1 },
);

export const DRAIN_FIGURE: FigureSpec = {
  id: 'drain',
  figure: 'outbox drain postbacks/s (SQLite)',
  unit: 'postbacks/s',
  target: '≥ 0.9×',
  timeBoxMs: 240_000,
  perSqliteLevel: true,
  settings: { key: 'drain', values: DRAIN },
  async run(synchronous) {
    const url = await receiverUrl();
    const { count, concurrency } = DRAIN;
    await receiverStats({ reset: true });
    let exactlyOnce = true;
    const received: Awaited<ReturnType<typeof receiverStats>>[] = [];
    const { module, bare, pairs } = await medianOfPairs(
      DRAIN.pairs,
      async (round) => {
        const result = (await measureInChild(
          `drain-module-${synchronous}-${round}`,
          'drain.js',
          { mode: 'module', receiver: url, count, concurrency, deadline: 60_000, synchronous },
          90_000,
        )) as Run;
        const got = await receiverStats({ reset: true });
        const states = result.states as Record<string, number>;
        // Every round: each row delivered once, each postback received once.
        exactlyOnce &&=
          states.delivered === DRAIN.count &&
          got.received === DRAIN.count &&
          got.distinctTxids === DRAIN.count;
        received.push(got);
        progress(
          `  flusher: ${fmt(result.perSecond)}/s (event loop busy ${fmt(result.mainThreadUsPerPostback as number, 0)} µs per postback)`,
        );
        return result;
      },
      async (round) => {
        const result = (await measureInChild(
          `drain-axios-${round}`,
          'drain.js',
          { mode: 'axios', receiver: url, count, concurrency },
          30_000,
        )) as Run;
        await receiverStats({ reset: true });
        progress(
          `  bare axios loop: ${fmt(result.perSecond)}/s (event loop busy ${fmt(result.mainThreadUsPerPostback as number, 0)} µs per postback)`,
        );
        return result;
      },
    );
    const ratio = ratioAtLeast(0.9)(module.perSecond, bare.perSecond);
    return {
      ...ratio,
      met: ratio.met && exactlyOnce,
      details: { module, bare, pairs, receivedFromModule: received, exactlyOnce },
    };
  },
};
