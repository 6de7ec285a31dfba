import type { SqliteLevel } from './children.js';

/** What a figure measured: its value against its baseline, and whether the target was met. */
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

/** One figure of the bench (bench/figures): what it measures, its target, how to run it. */
export interface FigureSpec {
  /** The name it is selected by: `npm run bench -- <id>`. */
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
  /** Its sizes, recorded under this key in the results' `settings`. */
  settings?: { key: string; values: object };
  run(level: SqliteLevel): Promise<FigureResult>;
  /** Lines printed after the table, from the first row's details (e.g. a query plan). */
  notes?(details: Record<string, unknown>): string[];
}

/** The result of a ratio figure whose target is `ratio ≥ target`. */
export const ratioAtLeast = (target: number) => (value: number, baseline: number) => {
  const ratio = value / baseline;
  return { value, baseline, ratio, met: ratio >= target };
};
