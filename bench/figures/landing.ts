/** Landing requests per second with click capture on, against the same shop with it off. */
import { finish, start } from '../lib/children.js';
import { type FigureSpec, ratioAtLeast } from '../lib/figure.js';
import { LOAD, load } from '../lib/load.js';
import { medianOfPairs } from '../lib/pairs.js';
import { sized } from '../lib/quick.js';
import { receiverUrl } from '../lib/receiver.js';

/** Pairs of runs (see `medianOfPairs`). */
const LANDING = sized({ pairs: 5 }, { pairs: 1 });

export const LANDING_FIGURE: FigureSpec = {
  id: 'landing',
  figure: 'landing req/s, click capture on',
  unit: 'req/s',
  target: '≥ 0.85×',
  timeBoxMs: 240_000,
  perSqliteLevel: true,
  async run(synchronous) {
    const url = await receiverUrl();
    const measure = async (capture: 'on' | 'off', round: number) => {
      const server = start(
        `landing-capture-${capture}-${synchronous}-${round}`,
        'landing-server.js',
        {
          capture,
          receiver: url,
          synchronous,
        },
      );
      const { port } = await server.next('ready', 20_000);
      const result = await load(
        port as number,
        (n) => ({ method: 'GET', path: `/landing?cid=lc-${capture}-${n}` }),
        `capture ${capture}`,
      );
      return { ...result, server: await finish(server) };
    };
    const { module, bare, pairs } = await medianOfPairs(
      LANDING.pairs,
      (pair) => measure('on', pair),
      (pair) => measure('off', pair),
    );
    return {
      ...ratioAtLeast(0.85)(module.perSecond, bare.perSecond),
      details: {
        connections: LOAD.connections,
        seconds: LOAD.seconds,
        withCapture: module,
        withoutCapture: bare,
        pairs,
      },
    };
  },
};
