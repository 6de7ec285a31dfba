/**
 * `npm run bench`: every figure of issue 5, each measured with its baseline in this same run
 * (machines are shared and noisy: the ratio is the result, the absolute numbers are context).
 * Servers, agents, the receiver and in-process measurements run in child processes
 * (bench/processes), so the load generator (autocannon, or the fixed-rate loop, here) never
 * shares their event loop. One file per figure in bench/figures; `--help` lists them.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

import { FIGURES } from './figures/all.js';
import type { SqliteLevel } from './lib/children.js';
import { environment } from './lib/environment.js';
import { LOAD } from './lib/load.js';
import { RESULTS } from './lib/paths.js';
import { progress } from './lib/progress.js';
import { QUICK } from './lib/quick.js';
import { stopReceiver } from './lib/receiver.js';
import { notes, table } from './lib/report.js';
import { type Figure, measure, tearDown } from './lib/runner.js';

const HELP = `Usage: npm run bench -- [--quick] [figure …]

With no names every figure runs (10 to 15 minutes); figures:
${FIGURES.map((f) => `  ${f.id.padEnd(10)} ${f.figure} (target ${f.target})`).join('\n')}

  --quick   every figure at a small size with one pair of runs: checks that the bench runs,
            measures nothing (written to bench-results/quick.json, not latest.json)
  --help    this text

Environment:
  BENCH_SQLITE_SYNCHRONOUS=FULL|NORMAL|both  the level(s) landing, events, record and drain run
                                             at (default both; targets are judged at FULL)
  BENCH_TIME_BOX_SCALE=<n>  multiplies every figure's time box (a slower machine)
  BENCH_CPU_PROF=1          starts the children with --cpu-prof (bench-results/profiles/)
  BENCH_QUICK=1             the same as --quick
  POSTBACK_TEST_POSTGRES_HOST/_PORT  the PostgreSQL the -pg figures make scratch databases on
                                     (default 127.0.0.1:5432)

Results: a table on stdout and bench-results/latest.json; logs in bench-results/logs/.`;

/** SQLite `synchronous` levels of the figures that write to disk; FULL is the judged one. */
function sqliteLevels(): SqliteLevel[] {
  const only = process.env.BENCH_SQLITE_SYNCHRONOUS;
  if (only === undefined || only === '' || only === 'both') return ['FULL', 'NORMAL'];
  if (only !== 'FULL' && only !== 'NORMAL') {
    throw new Error(`BENCH_SQLITE_SYNCHRONOUS must be FULL, NORMAL or both, not ${only}`);
  }
  return [only];
}
const JUDGED_LEVEL: SqliteLevel = 'FULL';

/** The figures named on the command line (all of them when none is). */
function selectFigures(argv: string[]) {
  const wanted = argv.filter((a) => !a.startsWith('-'));
  const unknown = wanted.filter((w) => !FIGURES.some((f) => f.id === w));
  if (unknown.length > 0) {
    throw new Error(
      `unknown figure(s) ${unknown.join(', ')}; known: ${FIGURES.map((f) => f.id).join(', ')}`,
    );
  }
  return FIGURES.filter((f) => wanted.length === 0 || wanted.includes(f.id));
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(HELP);
    return;
  }
  const selected = selectFigures(argv);
  const levels = sqliteLevels();
  const timeBoxScale = Number(process.env.BENCH_TIME_BOX_SCALE ?? 1) || 1;
  const env = environment({
    ...(QUICK && { quick: true }),
    sqlite: {
      journalMode: 'WAL',
      synchronous: levels,
      judged: JUDGED_LEVEL,
      note: 'landing, events, record and drain run at each level; the others at FULL',
    },
    load: LOAD,
    ...Object.fromEntries(
      FIGURES.flatMap((f) => (f.settings ? [[f.settings.key, f.settings.values]] : [])),
    ),
  });
  progress(
    `nestjs-postback bench${QUICK ? ' (quick: small sizes, not a measurement)' : ''} — ${env.cpu} ×${env.cores}, Node ${env.node}, ` +
      `commit ${env.git.commit?.slice(0, 7)}${env.git.modifiedFiles ? ` (+${env.git.modifiedFiles} modified files)` : ''}, ` +
      `load ${env.loadAverageAtStart.join(' ')}, SQLite WAL synchronous ${levels.join(' and ')}`,
  );
  if (os.loadavg()[0] > 0.5 * env.cores) {
    progress(
      '  warning: the machine is already busy; ratios are steadier than absolute figures, but both suffer',
    );
  }

  const started = performance.now();
  const figures: Figure[] = [];
  for (const spec of selected) {
    for (const level of spec.perSqliteLevel ? levels : [undefined]) {
      figures.push(await measure(spec, level, { judgedLevel: JUDGED_LEVEL, timeBoxScale }));
    }
  }
  await stopReceiver();
  await tearDown();

  const output = {
    ...env,
    durationSeconds: +((performance.now() - started) / 1000).toFixed(1),
    figures,
  };
  const file = QUICK ? 'quick.json' : 'latest.json';
  mkdirSync(RESULTS, { recursive: true });
  writeFileSync(join(RESULTS, file), `${JSON.stringify(output, null, 2)}\n`);

  console.log(`\n${table(figures)}\n`);
  if (figures.some((f) => !f.judged)) {
    console.log(
      `Targets are judged at SQLite synchronous=${JUDGED_LEVEL} (the agent's default); rows in parentheses are for information.`,
    );
  }
  for (const line of notes(selected, figures)) console.log(line);
  console.log(`\n${output.durationSeconds} s; written to bench-results/${file}`);
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
