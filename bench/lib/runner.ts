/**
 * Runs one figure at one SQLite level within its time box: a failure or a time box run out
 * becomes the row's error, the figure's children are killed, and the next figure runs.
 */
import { runFigure, sleep } from './abort.js';
import { killRunning, running, type SqliteLevel } from './children.js';
import type { FigureResult, FigureSpec } from './figure.js';
import { progress } from './progress.js';
import { killReceiver } from './receiver.js';
import { dropAllScratches } from './scratch.js';

/** One row of the table and of latest.json. */
export interface Figure extends FigureResult {
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

export interface RunOptions {
  /** The level the targets are judged at (the agent's default). */
  judgedLevel: SqliteLevel;
  /** Multiplies every time box (a slower machine). */
  timeBoxScale: number;
}

/** One figure at one level (`undefined`: a figure measured once, at the judged level). */
export async function measure(
  spec: FigureSpec,
  level: SqliteLevel | undefined,
  options: RunOptions,
): Promise<Figure> {
  const perLevel = level !== undefined;
  const base = {
    id: spec.id,
    figure: perLevel ? `${spec.figure}, synchronous=${level}` : spec.figure,
    unit: spec.unit,
    target: spec.target,
    ...(perLevel && { sqliteSynchronous: level }),
    judged: !perLevel || level === options.judgedLevel,
  };
  progress(`${spec.id}: ${base.figure} …`);
  let timer: NodeJS.Timeout | undefined;
  const run = runFigure(() => spec.run(level ?? options.judgedLevel));
  try {
    const timeBox = new Promise<never>((_, reject) => {
      const ms = spec.timeBoxMs * options.timeBoxScale;
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
    killRunning();
    return { ...base, error: (error as Error).message };
  } finally {
    clearTimeout(timer);
  }
}

/** Kills every child (the receiver too) and drops the scratch databases: the run is over. */
export async function tearDown(): Promise<void> {
  killRunning();
  killReceiver();
  await dropAllScratches();
}
