/**
 * `--quick` (or BENCH_QUICK=1): every figure at a small size and with one pair of runs, to
 * check that the bench still runs end to end in a minute or two per figure. Its table is no
 * measurement; it is written to bench-results/quick.json, not latest.json.
 */
export const QUICK = process.argv.includes('--quick') || process.env.BENCH_QUICK === '1';

/** `full`, or in quick mode `full` with `quick`'s fields instead. */
export const sized = <T extends object>(full: T, quick: Partial<T>): T =>
  QUICK ? { ...full, ...quick } : full;
