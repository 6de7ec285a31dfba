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
export const DRAIN = { count: 20_000, concurrency: 16, rounds: 3 };
/** Rounds of each side of the landing and events figures (see `bestOfAlternating`). */
const LANDING_ROUNDS = 3;
const EVENTS_ROUNDS = 3;
export const CLAIM = { delivered: 1_000_000, due: 200 };

export const ratioAtLeast = (target: number) => (value: number, baseline: number) => {
  const ratio = value / baseline;
  return { value, baseline, ratio, met: ratio >= target };
};

/** A measured run of one side of a figure: its throughput and what else it reports. */
export type Run = { perSecond: number } & Record<string, unknown>;

/** The fastest of several runs of one side. */
function bestRun<T extends { perSecond: number }>(runs: T[]): T {
  return runs.reduce((a, b) => (b.perSecond > a.perSecond ? b : a));
}

/**
 * Runs the two sides of a throughput figure in turn, `rounds` times each (so that a slow
 * stretch of this shared machine falls on both), and keeps each side's best run: noise only
 * ever slows a run down. The per-round figures go in the details.
 */
export async function bestOfAlternating<A extends Run, B extends Run>(
  rounds: number,
  module: (round: number) => Promise<A>,
  bare: (round: number) => Promise<B>,
): Promise<{ module: A; bare: B; rounds: { module: number[]; bare: number[] } }> {
  const runs: { module: A[]; bare: B[] } = { module: [], bare: [] };
  for (let round = 1; round <= rounds; round++) {
    runs.module.push(await module(round));
    runs.bare.push(await bare(round));
  }
  return {
    module: bestRun(runs.module),
    bare: bestRun(runs.bare),
    rounds: {
      module: runs.module.map((r) => r.perSecond),
      bare: runs.bare.map((r) => r.perSecond),
    },
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
    timeBoxMs: 150_000,
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
      const { module, bare, rounds } = await bestOfAlternating(
        LANDING_ROUNDS,
        (round) => measure('on', round),
        (round) => measure('off', round),
      );
      return {
        ...ratioAtLeast(0.85)(module.perSecond, bare.perSecond),
        details: {
          connections: LOAD.connections,
          seconds: LOAD.seconds,
          withCapture: module,
          withoutCapture: bare,
          rounds,
        },
      };
    },
  },
  {
    id: 'events',
    figure: 'POST /v1/events/s (SQLite)',
    unit: 'events/s',
    target: '≥ 0.35×',
    timeBoxMs: 150_000,
    perSqliteLevel: true,
    async run(synchronous) {
      const url = await receiverUrl();
      // One round: a fresh agent, its bare route, then events (once events ran, the flusher
      // may still be sending their postbacks). Rounds as for the other throughput figures.
      const round = async (n: number) => {
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
          return { bare, events, received, server: await finish(server) };
        } finally {
          server.kill();
        }
      };
      const rounds = [];
      for (let n = 1; n <= EVENTS_ROUNDS; n++) rounds.push(await round(n));
      const value = bestRun(rounds.map((r) => r.events));
      const baseline = bestRun(rounds.map((r) => r.bare));
      return {
        ...ratioAtLeast(0.35)(value.perSecond, baseline.perSecond),
        details: {
          connections: LOAD.connections,
          seconds: LOAD.seconds,
          events: value,
          bareRoute: baseline,
          rounds: rounds.map((r) => ({
            events: r.events.perSecond,
            bareRoute: r.bare.perSecond,
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
    timeBoxMs: 120_000,
    perSqliteLevel: true,
    async run(synchronous) {
      const url = await receiverUrl();
      const { count, concurrency } = DRAIN;
      await receiverStats({ reset: true });
      let exactlyOnce = true;
      const received: Awaited<ReturnType<typeof receiverStats>>[] = [];
      const { module, bare, rounds } = await bestOfAlternating(
        DRAIN.rounds,
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
        details: { module, bare, rounds, receivedFromModule: received, exactlyOnce },
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
