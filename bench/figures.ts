/**
 * The figures on one SQLite agent: landing, events, record(), drain, and the claim query.
 * Each measures the module through its public API, and its baseline in the same run.
 */
import { LOAD, load } from './load.js';
import {
  finish,
  fmt,
  measureInChild,
  progress,
  receiverStats,
  receiverUrl,
  running,
  type SqliteLevel,
  start,
} from './orchestrator.js';

export interface FigureResult {
  value?: number;
  baseline?: number;
  ratio?: number;
  met?: boolean;
  /** Table text instead of the number and unit, e.g. "p50 8 ms, p99 40 ms". */
  display?: { value?: string; baseline?: string };
  /** Said next to the result, e.g. that a memory figure drained only part of its rows. */
  caveat?: string;
  details?: Record<string, unknown>;
}

export interface FigureSpec {
  id: string;
  figure: string;
  unit: string;
  target: string;
  /** Per SQLite level when `perSqliteLevel`. */
  timeBoxMs: number;
  /**
   * Measured once per SQLite `synchronous` level: FULL (the agent's default, the one the
   * target is judged on) and NORMAL alongside (see BENCH_SQLITE_SYNCHRONOUS in main.ts).
   */
  perSqliteLevel?: boolean;
  run(level: SqliteLevel): Promise<FigureResult>;
}

export const RECORD = { count: 20_000, warmup: 2_000, concurrency: 16 };
export const DRAIN = { count: 20_000, concurrency: 16, pairs: 5 };
/** Pairs of runs of the landing and events figures (see `medianOfPairs`). */
const LANDING_PAIRS = 5;
const EVENTS_PAIRS = 5;
export const CLAIM = { delivered: 1_000_000, due: 200 };

export const ratioAtLeast = (target: number) => (value: number, baseline: number) => {
  const ratio = value / baseline;
  return { value, baseline, ratio, met: ratio >= target };
};

type Throughput = { perSecond: number };
/** A measured run of one side of a figure: its throughput and what else it reports. */
export type Run = Throughput & Record<string, unknown>;

/** The two sides of a figure measured back to back, and the module's throughput over the bare one's. */
export interface Pair<A extends Throughput, B extends Throughput> {
  module: A;
  bare: B;
  ratio: number;
}

/**
 * What a throughput figure judges: of its pairs of runs (the module's side and the bare side,
 * measured back to back), the one with the median ratio. Not each side's best run: this
 * machine's speed drifts by a third and more from one stretch of seconds to the next (a bare
 * axios loop, alone and pinned to one core: 2,576 to 4,695 postbacks/s, its CPU time per
 * postback moving with it), so each side's best says which side drew the fastest stretch. Two
 * runs back to back mostly share a stretch, and the median leaves out the pair one fell across.
 */
export function medianPair<A extends Throughput, B extends Throughput>(
  pairs: Pair<A, B>[],
): Pair<A, B> {
  const sorted = [...pairs].sort((a, b) => a.ratio - b.ratio);
  // An odd count is asked for; with an even one, the lower of the two middle pairs.
  return sorted[Math.floor((sorted.length - 1) / 2)];
}

export const pairOf = <A extends Throughput, B extends Throughput>(
  module: A,
  bare: B,
): Pair<A, B> => ({
  module,
  bare,
  ratio: module.perSecond / bare.perSecond,
});

/**
 * Runs the two sides of a throughput figure as `pairs` back-to-back pairs and keeps the median
 * pair (see `medianPair`). The order alternates, module first then bare first, so that neither
 * side always runs second (on a warmer page cache, a receiver with more sockets). Every pair
 * goes in the details.
 */
export async function medianOfPairs<A extends Run, B extends Run>(
  pairs: number,
  module: (pair: number) => Promise<A>,
  bare: (pair: number) => Promise<B>,
): Promise<{ module: A; bare: B; pairs: { module: number; bare: number; ratio: number }[] }> {
  const measured: Pair<A, B>[] = [];
  for (let pair = 1; pair <= pairs; pair++) {
    if (pair % 2 === 1) {
      const first = await module(pair);
      measured.push(pairOf(first, await bare(pair)));
    } else {
      const first = await bare(pair);
      measured.push(pairOf(await module(pair), first));
    }
    progress(`  pair ${pair}: ${measured[pair - 1].ratio.toFixed(2)}×`);
  }
  const median = medianPair(measured);
  return {
    module: median.module,
    bare: median.bare,
    pairs: measured.map((p) => ({
      module: p.module.perSecond,
      bare: p.bare.perSecond,
      ratio: p.ratio,
    })),
  };
}

/** The JSON of a purchase event, as the shop would post it. */
export const purchase = (prefix: string, n: number) => ({
  type: 'purchase',
  orderId: `${prefix}-${n}`,
  amount: '59.97',
  currency: 'EUR',
  clickId: `click-${prefix}-${n}`,
});

export const SQLITE_FIGURES: FigureSpec[] = [
  {
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
        LANDING_PAIRS,
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
  },
  {
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
      for (let n = 1; n <= EVENTS_PAIRS; n++) measured.push(await measurePair(n));
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
  },
  {
    id: 'record',
    figure: 'ConversionService.record()/s (SQLite)',
    unit: 'events/s',
    target: '≥ 0.6×',
    timeBoxMs: 90_000,
    perSqliteLevel: true,
    async run(synchronous) {
      const module = await measureInChild(
        `record-module-${synchronous}`,
        'record.js',
        { mode: 'module', ...RECORD, synchronous },
        60_000,
      );
      progress(`  record(): ${fmt(module.perSecond as number)}/s`);
      const bare = await measureInChild(
        `record-bare-${synchronous}`,
        'record.js',
        { mode: 'bare', ...RECORD, synchronous },
        30_000,
      );
      progress(`  bare better-sqlite3: ${fmt(bare.perSecond as number)}/s`);
      const counted = await measureInChild(
        `record-count-${synchronous}`,
        'record.js',
        { mode: 'count', count: 500, warmup: 100, concurrency: RECORD.concurrency, synchronous },
        30_000,
      ).catch((error: Error) => ({ error: error.message }));
      return {
        ...ratioAtLeast(0.6)(module.perSecond as number, bare.perSecond as number),
        details: {
          module,
          bare,
          statementsPerEvent: (counted as Record<string, unknown>).statementsPerEvent,
          statements: (counted as Record<string, unknown>).statements,
        },
      };
    },
  },
  {
    id: 'drain',
    figure: 'outbox drain postbacks/s (SQLite)',
    unit: 'postbacks/s',
    target: '≥ 0.9×',
    timeBoxMs: 240_000,
    perSqliteLevel: true,
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
  },
  {
    id: 'claim',
    figure: 'claim query p95, 1M delivered rows',
    unit: 'ms',
    target: 'p95 ≤ 10 ms, index',
    timeBoxMs: 150_000,
    async run() {
      const result = await measureInChild('claim-query', 'claim-query.js', { ...CLAIM }, 140_000);
      const retained = result.retained as Record<string, number>;
      const empty = result.empty as Record<string, number>;
      const plans = result.plans as Record<string, string[]>;
      const usesIndex = plans.retained.some((d) => d.includes('IDX_postback_outbox_state_due'));
      progress(
        `  p95 ${retained.p95Ms.toFixed(3)} ms with ${CLAIM.delivered} delivered rows, ${empty.p95Ms.toFixed(3)} ms empty`,
      );
      return {
        value: retained.p95Ms,
        baseline: empty.p95Ms,
        ratio: retained.p95Ms / empty.p95Ms,
        met: retained.p95Ms <= 10 && usesIndex,
        details: { ...result, usesIndex },
      };
    },
  },
];
