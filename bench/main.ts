/**
 * `npm run bench`: every figure of issue 5, each measured with its baseline in this same run
 * (machines are shared and noisy: the ratio is the result, the absolute numbers are context).
 * Servers, agents, the receiver and in-process measurements run in child processes, so the
 * load generator (autocannon, or the fixed-rate loop, here) never shares their event loop.
 *
 *   node dist-bench/bench/main.js [landing] [events] [record] [drain] [claim]
 *                                 [record-pg] [drain-pg] [latency] [rss] [lock]
 *
 * With no names every figure runs. The SQLite figures that write to disk (landing, events,
 * record, drain) run twice, at `synchronous` FULL (the agent's default: the row the target is
 * judged on) and NORMAL (alongside, for information); BENCH_SQLITE_SYNCHRONOUS=FULL or NORMAL
 * runs only that level. The other figures run at FULL. The PostgreSQL figures use scratch
 * databases on 127.0.0.1:5432 (POSTBACK_TEST_POSTGRES_HOST/_PORT), created and dropped here.
 * Every figure has a time box (BENCH_TIME_BOX_SCALE multiplies them); one that fails or runs out
 * of time is reported as an error, its children killed, and the next one runs.
 * BENCH_CPU_PROF=1 starts the children with --cpu-prof (profiles in bench-results/profiles/).
 * Results: a table on stdout and bench-results/latest.json.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

import { LOCKED } from './figure-lock.js';
import { AGENT_FIGURES, DRAIN_PG, LATENCY, RECORD_PG, RSS } from './figures-agents.js';
import {
  CLAIM,
  DRAIN,
  type FigureResult,
  type FigureSpec,
  RECORD,
  SQLITE_FIGURES,
} from './figures.js';
import { LOAD } from './load.js';
import {
  fmt,
  progress,
  RESULTS,
  ROOT,
  runFigure,
  running,
  type SqliteLevel,
  sleep,
  stopReceiver,
  tearDown,
} from './orchestrator.js';

const FIGURES: FigureSpec[] = [...SQLITE_FIGURES, ...AGENT_FIGURES, LOCKED];

/** SQLite `synchronous` levels of the figures that write to disk; FULL is the judged one. */
const SQLITE_LEVELS: SqliteLevel[] = (() => {
  const only = process.env.BENCH_SQLITE_SYNCHRONOUS;
  if (only === undefined || only === '' || only === 'both') return ['FULL', 'NORMAL'];
  if (only !== 'FULL' && only !== 'NORMAL') {
    throw new Error(`BENCH_SQLITE_SYNCHRONOUS must be FULL, NORMAL or both, not ${only}`);
  }
  return [only];
})();
const JUDGED_LEVEL: SqliteLevel = 'FULL';
/** BENCH_TIME_BOX_SCALE=2 gives every figure twice its time box (a slower machine). */
const TIME_BOX_SCALE = Number(process.env.BENCH_TIME_BOX_SCALE ?? 1) || 1;

interface Figure extends FigureResult {
  id: string;
  figure: string;
  unit: string;
  target: string;
  /** The SQLite level of a figure measured at both. */
  sqliteSynchronous?: SqliteLevel;
  /** Whether the target is judged on this row (false: the NORMAL row, for information). */
  judged: boolean;
  error?: string;
}

// ---------------------------------------------------------------------------------------------
// Output

function table(figures: Figure[]): string {
  const rows = [
    ['figure', 'value', 'baseline', 'ratio', 'target', 'result'],
    ...figures.map((f) => {
      const digits = f.unit === 'ms' ? 3 : 0;
      const outcome = `${f.met ? 'met' : 'MISSED'}${f.caveat ? ` (${f.caveat})` : ''}`;
      return [
        f.figure,
        f.display?.value ?? (f.value === undefined ? '—' : `${fmt(f.value, digits)} ${f.unit}`),
        f.display?.baseline ??
          (f.baseline === undefined ? '—' : `${fmt(f.baseline, digits)} ${f.unit}`),
        f.ratio === undefined ? '—' : `${f.ratio.toFixed(2)}×`,
        f.judged ? f.target : `(${f.target})`,
        f.error
          ? `error: ${f.error.split('\n')[0].slice(0, 90)}`
          : f.judged
            ? outcome
            : `info: ${f.met ? 'met' : 'missed'}`,
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

/** One figure at one level, within its time box; a failure becomes the row's error. */
async function measure(spec: FigureSpec, level: SqliteLevel | undefined): Promise<Figure> {
  const perLevel = level !== undefined;
  const base = {
    id: spec.id,
    figure: perLevel ? `${spec.figure}, synchronous=${level}` : spec.figure,
    unit: spec.unit,
    target: spec.target,
    ...(perLevel && { sqliteSynchronous: level }),
    judged: !perLevel || level === JUDGED_LEVEL,
  };
  progress(`${spec.id}: ${base.figure} …`);
  let timer: NodeJS.Timeout | undefined;
  const run = runFigure(() => spec.run(level ?? JUDGED_LEVEL));
  try {
    const timeBox = new Promise<never>((_, reject) => {
      const ms = spec.timeBoxMs * TIME_BOX_SCALE;
      timer = setTimeout(() => reject(new Error(`time box of ${ms / 1000} s exceeded`)), ms);
    });
    return { ...base, ...(await Promise.race([run.result, timeBox])) };
  } catch (error) {
    progress(`  failed: ${(error as Error).message}`);
    // Whatever this figure started must not load the next one: stop its code at its next
    // step, kill its children, and let its own clean-up (scratch databases, temp dirs) finish.
    run.abort(`${spec.id}: ${(error as Error).message}`);
    for (const child of running) child.kill();
    await Promise.race([run.result.catch(() => undefined), sleep(30_000)]);
    for (const child of running) child.kill();
    running.clear();
    return { ...base, error: (error as Error).message };
  } finally {
    clearTimeout(timer);
  }
}

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
      pg: version('pg'),
      nestCore: version('@nestjs/core'),
      autocannon: version('autocannon'),
    },
    settings: {
      sqlite: {
        journalMode: 'WAL',
        synchronous: SQLITE_LEVELS,
        judged: JUDGED_LEVEL,
        note: 'landing, events, record and drain run at each level; the others at FULL',
      },
      load: LOAD,
      record: RECORD,
      drain: DRAIN,
      claim: CLAIM,
      recordPostgres: RECORD_PG,
      drainPostgres: DRAIN_PG,
      latency: LATENCY,
      rss: RSS,
    },
  };
  progress(
    `nestjs-postback bench — ${environment.cpu} ×${environment.cores}, Node ${environment.node}, ` +
      `commit ${environment.git.commit?.slice(0, 7)}${environment.git.modifiedFiles ? ` (+${environment.git.modifiedFiles} modified files)` : ''}, ` +
      `load ${environment.loadAverageAtStart.join(' ')}, SQLite WAL synchronous ${SQLITE_LEVELS.join(' and ')}`,
  );
  if (os.loadavg()[0] > 0.5 * cpus.length) {
    progress(
      '  warning: the machine is already busy; ratios are steadier than absolute figures, but both suffer',
    );
  }

  const started = performance.now();
  const figures: Figure[] = [];
  for (const spec of selected) {
    for (const level of spec.perSqliteLevel ? SQLITE_LEVELS : [undefined]) {
      figures.push(await measure(spec, level));
    }
  }
  await stopReceiver();
  await tearDown();

  const output = {
    ...environment,
    durationSeconds: +((performance.now() - started) / 1000).toFixed(1),
    figures,
  };
  mkdirSync(RESULTS, { recursive: true });
  writeFileSync(join(RESULTS, 'latest.json'), `${JSON.stringify(output, null, 2)}\n`);

  console.log(`\n${table(figures)}\n`);
  if (figures.some((f) => !f.judged)) {
    console.log(
      `Targets are judged at SQLite synchronous=${JUDGED_LEVEL} (the agent's default); rows in parentheses are for information.`,
    );
  }
  const claim = figures.find((f) => f.id === 'claim' && f.details);
  if (claim?.details) {
    const plans = claim.details.plans as Record<string, string[]>;
    console.log(`claim query plan, ${fmt(CLAIM.delivered)} delivered rows (EXPLAIN QUERY PLAN):`);
    for (const detail of plans.retained) console.log(`  ${detail}`);
  }
  const rss = figures.find((f) => f.id === 'rss' && f.details);
  if (rss?.details) console.log(`peak RSS figure: ${rss.details.window}`);
  const record = figures.find((f) => f.id === 'record' && f.details);
  const sqlite = (record?.details?.module as { sqlite?: unknown } | undefined)?.sqlite;
  if (sqlite) console.log(`SQLite as the module opens it: ${JSON.stringify(sqlite)}`);
  const recordPg = figures.find((f) => f.id === 'record-pg' && f.details);
  const postgres = (recordPg?.details?.module as { postgres?: unknown } | undefined)?.postgres;
  if (postgres) console.log(`PostgreSQL: ${JSON.stringify(postgres)}`);
  console.log(`\n${output.durationSeconds} s; written to bench-results/latest.json`);
  // An abandoned figure may still hold a timer or a socket: the run is over regardless.
  process.exit(0);
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    progress(`${signal}: stopping the children and dropping the scratch databases`);
    void tearDown().finally(() => process.exit(130));
  });
}

main().catch(async (error: Error) => {
  await tearDown().catch(() => undefined);
  console.error(error.stack ?? error.message);
  process.exit(1);
});
