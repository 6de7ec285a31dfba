/**
 * `npm run bench`: every figure of issue 5 that is implemented so far, each measured with its
 * baseline in this same run (machines are shared and noisy: the ratio is the result, the
 * absolute numbers are context). Servers, the receiver and in-process measurements run in
 * child processes, so the load generator (autocannon, here) never shares their event loop.
 *
 *   node dist-bench/bench/main.js [landing] [events] [record] [drain] [claim]
 *
 * With no names every figure runs. BENCH_CPU_PROF=1 starts the children with --cpu-prof
 * (profiles in bench-results/profiles/). Results: a table on stdout and
 * bench-results/latest.json.
 */
import { type ChildProcess, execFileSync, fork } from 'node:child_process';
import { createWriteStream, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

import autocannon from 'autocannon';

import type { ChildMessage } from './common.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '..', '..'); // dist-bench/bench -> repository root
const RESULTS = join(ROOT, 'bench-results');
const LOGS = join(RESULTS, 'logs');
const PROFILES = join(RESULTS, 'profiles');

const LOAD = { connections: 32, warmupSeconds: 2, seconds: 8 };
const RECORD = { count: 20_000, warmup: 2_000, concurrency: 16 };
const DRAIN = { count: 20_000, concurrency: 16 };
const CLAIM = { delivered: 1_000_000, due: 200 };
/** SQLite `synchronous` (WAL) for every figure: the agent's default, FULL, unless overridden. */
const SYNCHRONOUS = process.env.BENCH_SQLITE_SYNCHRONOUS ?? 'FULL';

// ---------------------------------------------------------------------------------------------
// Child processes

class Child {
  private readonly messages: ChildMessage[] = [];
  private readonly waiters = new Set<() => void>();
  private exited?: { code: number | null; signal: NodeJS.Signals | null };

  private constructor(
    readonly name: string,
    private readonly proc: ChildProcess,
  ) {
    proc.on('message', (message: ChildMessage) => {
      this.messages.push(message);
      this.wakeAll();
    });
    proc.on('exit', (code, signal) => {
      this.exited = { code, signal };
      this.wakeAll();
    });
  }

  static start(name: string, script: string, args: Record<string, string | number> = {}): Child {
    mkdirSync(LOGS, { recursive: true });
    const execArgv = process.env.BENCH_CPU_PROF
      ? ['--cpu-prof', `--cpu-prof-dir=${PROFILES}`, `--cpu-prof-name=${name}.cpuprofile`]
      : [];
    const proc = fork(
      join(HERE, script),
      Object.entries({ synchronous: SYNCHRONOUS, ...args }).map(
        ([key, value]) => `--${key}=${value}`,
      ),
      { cwd: ROOT, execArgv, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] },
    );
    const log = createWriteStream(join(LOGS, `${name}.log`));
    proc.stdout?.pipe(log);
    proc.stderr?.pipe(log);
    return new Child(name, proc);
  }

  private wakeAll(): void {
    for (const wake of this.waiters) wake();
  }

  /** The next message of `type` (an 'error' message or an exit rejects). */
  async next<T extends ChildMessage['type']>(
    type: T,
    timeoutMs: number,
  ): Promise<Extract<ChildMessage, { type: T }>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const index = this.messages.findIndex((m) => m.type === type || m.type === 'error');
      if (index >= 0) {
        const [message] = this.messages.splice(index, 1);
        if (message.type === 'error') throw new Error(`${this.name}: ${message.message}`);
        return message as Extract<ChildMessage, { type: T }>;
      }
      if (this.exited) {
        throw new Error(
          `${this.name} exited (${this.exited.code ?? this.exited.signal}) before "${type}"; see bench-results/logs/${this.name}.log`,
        );
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`${this.name}: no "${type}" within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const wake = () => {
          clearTimeout(timer);
          this.waiters.delete(wake);
          resolve();
        };
        const timer = setTimeout(wake, left);
        this.waiters.add(wake);
      });
    }
  }

  send(message: { type: string; [key: string]: unknown }): void {
    if (!this.exited) this.proc.send(message);
  }

  /** Asks the child to stop and waits for its final stats; kills it if it does not answer. */
  async stop(timeoutMs = 20_000): Promise<Record<string, unknown> | undefined> {
    if (this.exited) return undefined;
    this.send({ type: 'stop' });
    try {
      return (await this.next('stats', timeoutMs)).data;
    } catch {
      return undefined;
    } finally {
      await this.waitForExit(5_000);
    }
  }

  async waitForExit(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.exited && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    this.kill();
  }

  kill(): void {
    if (!this.exited && this.proc.pid) this.proc.kill('SIGKILL');
  }
}

const running = new Set<Child>();
function start(name: string, script: string, args: Record<string, string | number> = {}): Child {
  const child = Child.start(name, script, args);
  running.add(child);
  return child;
}
async function finish(child: Child): Promise<Record<string, unknown> | undefined> {
  try {
    return await child.stop();
  } finally {
    running.delete(child);
  }
}
/** Runs a child that measures something and sends one result. */
async function measureInChild(
  name: string,
  script: string,
  args: Record<string, string | number>,
  timeoutMs: number,
): Promise<Record<string, unknown>> {
  const child = start(name, script, args);
  try {
    return (await child.next('result', timeoutMs)).data;
  } finally {
    await child.waitForExit(5_000);
    running.delete(child);
  }
}

// ---------------------------------------------------------------------------------------------
// Load generation (in this process; the servers are children)

interface LoadResult {
  perSecond: number;
  ok: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  seconds: number;
}

function cannon(options: autocannon.Options): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => {
    autocannon(options, (error, result) => (error ? reject(error) : resolve(result)));
  });
}

/** A warm-up, then the measured run; every request made by `request(n)` with a fresh n. */
async function load(
  port: number,
  request: (n: number) => autocannon.Request,
  label: string,
): Promise<LoadResult> {
  let n = 0;
  const options = (duration: number): autocannon.Options => ({
    url: `http://127.0.0.1:${port}`,
    connections: LOAD.connections,
    duration,
    timeout: 10,
    requests: [{ setupRequest: (req) => ({ ...req, ...request(n++) }) }],
  });
  await cannon(options(LOAD.warmupSeconds));
  const result = await cannon(options(LOAD.seconds));
  const seconds = result.duration;
  const loadResult = {
    perSecond: result['2xx'] / seconds,
    ok: result['2xx'],
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    latencyP50Ms: result.latency.p50,
    latencyP99Ms: result.latency.p99,
    seconds,
  };
  progress(
    `  ${label}: ${fmt(loadResult.perSecond)} req/s (p99 ${result.latency.p99} ms, non-2xx ${result.non2xx}, errors ${result.errors})`,
  );
  return loadResult;
}

// ---------------------------------------------------------------------------------------------
// Figures

interface Figure {
  id: string;
  figure: string;
  unit: string;
  value?: number;
  baseline?: number;
  ratio?: number;
  target: string;
  met?: boolean;
  error?: string;
  details?: Record<string, unknown>;
}

type FigureRun = () => Promise<Omit<Figure, 'id' | 'figure' | 'unit' | 'target'>>;

interface FigureSpec {
  id: string;
  figure: string;
  unit: string;
  target: string;
  timeBoxMs: number;
  run: FigureRun;
}

let receiver: { child: Child; url: string } | undefined;
async function receiverUrl(): Promise<string> {
  if (!receiver) {
    const child = start('receiver', 'receiver.js');
    const ready = await child.next('ready', 15_000);
    receiver = { child, url: String(ready.url) };
  }
  return receiver.url;
}
async function receiverStats(reset = true): Promise<Record<string, unknown>> {
  if (!receiver) return {};
  receiver.child.send({ type: 'stats', reset });
  return (await receiver.child.next('stats', 10_000)).data;
}

const ratioAtLeast = (target: number) => (value: number, baseline: number) => {
  const ratio = value / baseline;
  return { value, baseline, ratio, met: ratio >= target };
};

const FIGURES: FigureSpec[] = [
  {
    id: 'landing',
    figure: 'landing req/s, click capture on',
    unit: 'req/s',
    target: '≥ 0.85×',
    timeBoxMs: 60_000,
    async run() {
      const url = await receiverUrl();
      const measure = async (capture: 'on' | 'off') => {
        const server = start(`landing-capture-${capture}`, 'landing-server.js', {
          capture,
          receiver: url,
        });
        const { port } = await server.next('ready', 20_000);
        const result = await load(
          port as number,
          (n) => ({ method: 'GET', path: `/landing?cid=lc-${capture}-${n}` }),
          `capture ${capture}`,
        );
        return { ...result, server: await finish(server) };
      };
      const baseline = await measure('off');
      const value = await measure('on');
      return {
        ...ratioAtLeast(0.85)(value.perSecond, baseline.perSecond),
        details: {
          connections: LOAD.connections,
          seconds: LOAD.seconds,
          withCapture: value,
          withoutCapture: baseline,
        },
      };
    },
  },
  {
    id: 'events',
    figure: 'POST /v1/events/s (SQLite)',
    unit: 'events/s',
    target: '≥ 0.35×',
    timeBoxMs: 60_000,
    async run() {
      const url = await receiverUrl();
      const server = start('events-server', 'events-server.js', { receiver: url });
      try {
        const { port } = await server.next('ready', 20_000);
        const body = (n: number, prefix: string) =>
          JSON.stringify({
            type: 'purchase',
            orderId: `${prefix}-${n}`,
            amount: '59.97',
            currency: 'EUR',
            clickId: `click-${prefix}-${n}`,
          });
        const headers = { 'content-type': 'application/json' };
        // The bare route first: once events ran, the flusher may still be sending their postbacks.
        const baseline = await load(
          port as number,
          (n) => ({ method: 'POST', path: '/bench/noop', headers, body: body(n, 'noop') }),
          'bare route',
        );
        await receiverStats(true);
        const value = await load(
          port as number,
          (n) => ({ method: 'POST', path: '/v1/events', headers, body: body(n, 'ev') }),
          'POST /v1/events',
        );
        const receivedDuringRun = await receiverStats(true);
        const stats = await finish(server);
        return {
          ...ratioAtLeast(0.35)(value.perSecond, baseline.perSecond),
          details: {
            connections: LOAD.connections,
            seconds: LOAD.seconds,
            events: value,
            bareRoute: baseline,
            postbacksReceivedDuringEventsRun: receivedDuringRun,
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
    id: 'record',
    figure: 'ConversionService.record()/s (SQLite)',
    unit: 'events/s',
    target: '≥ 0.6×',
    timeBoxMs: 90_000,
    async run() {
      const module = await measureInChild(
        'record-module',
        'record.js',
        { mode: 'module', ...RECORD },
        60_000,
      );
      progress(`  record(): ${fmt(module.perSecond as number)}/s`);
      const bare = await measureInChild(
        'record-bare',
        'record.js',
        { mode: 'bare', ...RECORD },
        30_000,
      );
      progress(`  bare better-sqlite3: ${fmt(bare.perSecond as number)}/s`);
      const counted = await measureInChild(
        'record-count',
        'record.js',
        { mode: 'count', count: 500, warmup: 100, concurrency: RECORD.concurrency },
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
    async run() {
      const url = await receiverUrl();
      await receiverStats(true);
      const module = await measureInChild(
        'drain-module',
        'drain.js',
        { mode: 'module', receiver: url, ...DRAIN, deadline: 60_000 },
        90_000,
      );
      const moduleReceived = await receiverStats(true);
      progress(`  flusher: ${fmt(module.perSecond as number)}/s`);
      const bare = await measureInChild(
        'drain-axios',
        'drain.js',
        { mode: 'axios', receiver: url, ...DRAIN },
        30_000,
      );
      const bareReceived = await receiverStats(true);
      progress(`  bare axios loop: ${fmt(bare.perSecond as number)}/s`);
      const states = module.states as Record<string, number>;
      const exactlyOnce =
        states.delivered === DRAIN.count &&
        moduleReceived.received === DRAIN.count &&
        moduleReceived.distinctTxids === DRAIN.count;
      const ratio = ratioAtLeast(0.9)(module.perSecond as number, bare.perSecond as number);
      return {
        ...ratio,
        met: ratio.met && exactlyOnce,
        details: {
          module,
          bare,
          receivedFromModule: moduleReceived,
          receivedFromAxios: bareReceived,
          exactlyOnce,
        },
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

const SKIPPED = [
  [
    'record() on PostgreSQL, 16 callers',
    'not in this first step (needs a PostgreSQL server in the bench)',
  ],
  ['outbox drain, 3 agent processes on PostgreSQL', 'not in this first step'],
  ['event → postback latency at 200 events/s', 'not in this first step'],
  ['peak RSS draining 1,000,000 pending postbacks', 'not in this first step'],
];

// ---------------------------------------------------------------------------------------------
// Output

function fmt(value: number | undefined, digits = 0): string {
  if (value === undefined || !Number.isFinite(value)) return '—';
  return value.toLocaleString('en-US', {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
}

function progress(line: string): void {
  process.stderr.write(`${line}\n`);
}

function table(figures: Figure[]): string {
  const rows = [
    ['figure', 'value', 'baseline', 'ratio', 'target', 'result'],
    ...figures.map((f) => {
      const digits = f.unit === 'ms' ? 3 : 0;
      return [
        f.figure,
        f.value === undefined ? '—' : `${fmt(f.value, digits)} ${f.unit}`,
        f.baseline === undefined ? '—' : `${fmt(f.baseline, digits)} ${f.unit}`,
        f.ratio === undefined ? '—' : `${f.ratio.toFixed(2)}×`,
        f.target,
        f.error ? `error: ${f.error.split('\n')[0].slice(0, 60)}` : f.met ? 'met' : 'MISSED',
      ];
    }),
  ];
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  const line = (r: string[]) => `| ${r.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  return [
    line(rows[0]),
    `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`,
    ...rows.slice(1).map(line),
  ].join('\n');
}

function git(...args: string[]): string | undefined {
  try {
    return execFileSync('git', args, {
      cwd: ROOT,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  } catch {
    return undefined;
  }
}

function version(pkg: string): string | undefined {
  try {
    return JSON.parse(readFileSync(join(ROOT, 'node_modules', pkg, 'package.json'), 'utf8'))
      .version;
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
  const unknown = wanted.filter((w) => !FIGURES.some((f) => f.id === w));
  if (unknown.length > 0) {
    throw new Error(
      `unknown figure(s) ${unknown.join(', ')}; known: ${FIGURES.map((f) => f.id).join(', ')}`,
    );
  }
  const selected = FIGURES.filter((f) => wanted.length === 0 || wanted.includes(f.id));
  const cpus = os.cpus();
  const changed = git('status', '--porcelain', '--untracked-files=no');
  const environment = {
    timestamp: new Date().toISOString(),
    node: process.version,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    cpu: cpus[0]?.model,
    cores: cpus.length,
    memoryMb: Math.round(os.totalmem() / 2 ** 20),
    loadAverageAtStart: os.loadavg().map((l) => +l.toFixed(2)),
    git: {
      commit: git('rev-parse', 'HEAD'),
      // Tracked files changed since that commit: the figures measure the working tree.
      modifiedFiles: changed === undefined ? undefined : changed.split('\n').filter(Boolean).length,
    },
    versions: {
      typeorm: version('typeorm'),
      betterSqlite3: version('better-sqlite3'),
      nestCore: version('@nestjs/core'),
      autocannon: version('autocannon'),
    },
    settings: {
      sqlite: { journalMode: 'WAL', synchronous: SYNCHRONOUS },
      load: LOAD,
      record: RECORD,
      drain: DRAIN,
      claim: CLAIM,
    },
  };
  progress(
    `nestjs-postback bench — ${environment.cpu} ×${environment.cores}, Node ${environment.node}, ` +
      `commit ${environment.git.commit?.slice(0, 7)}${environment.git.modifiedFiles ? ` (+${environment.git.modifiedFiles} modified files)` : ''}, ` +
      `load ${environment.loadAverageAtStart.join(' ')}, SQLite WAL synchronous=${SYNCHRONOUS}`,
  );
  if (os.loadavg()[0] > 0.5 * cpus.length) {
    progress(
      '  warning: the machine is already busy; ratios are steadier than absolute figures, but both suffer',
    );
  }

  const started = performance.now();
  const figures: Figure[] = [];
  for (const spec of selected) {
    progress(`${spec.id}: ${spec.figure} …`);
    const base = { id: spec.id, figure: spec.figure, unit: spec.unit, target: spec.target };
    let timer: NodeJS.Timeout | undefined;
    try {
      const timeBox = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`time box of ${spec.timeBoxMs / 1000} s exceeded`)),
          spec.timeBoxMs,
        );
      });
      figures.push({ ...base, ...(await Promise.race([spec.run(), timeBox])) });
    } catch (error) {
      progress(`  failed: ${(error as Error).message}`);
      figures.push({ ...base, error: (error as Error).message });
      // Whatever this figure started must not load the next one.
      for (const child of running) if (child !== receiver?.child) child.kill();
    } finally {
      clearTimeout(timer);
    }
  }
  if (receiver) await finish(receiver.child);
  for (const child of running) child.kill();

  const output = {
    ...environment,
    durationSeconds: +((performance.now() - started) / 1000).toFixed(1),
    figures,
    notMeasured: SKIPPED.map(([figure, reason]) => ({ figure, reason })),
  };
  mkdirSync(RESULTS, { recursive: true });
  writeFileSync(join(RESULTS, 'latest.json'), `${JSON.stringify(output, null, 2)}\n`);

  console.log(`\n${table(figures)}\n`);
  const claim = figures.find((f) => f.id === 'claim' && f.details);
  if (claim?.details) {
    const plans = claim.details.plans as Record<string, string[]>;
    console.log(`claim query plan, ${fmt(CLAIM.delivered)} delivered rows (EXPLAIN QUERY PLAN):`);
    for (const detail of plans.retained) console.log(`  ${detail}`);
  }
  const record = figures.find((f) => f.id === 'record' && f.details);
  const sqlite = (record?.details?.module as { sqlite?: unknown } | undefined)?.sqlite;
  if (sqlite) console.log(`SQLite as the module opens it: ${JSON.stringify(sqlite)}`);
  console.log(`not measured yet: ${SKIPPED.map(([f]) => f).join('; ')}`);
  console.log(`\n${output.durationSeconds} s; written to bench-results/latest.json`);
}

main().catch((error: Error) => {
  for (const child of running) child.kill();
  console.error(error.stack ?? error.message);
  process.exit(1);
});
