import { performance } from 'node:perf_hooks';

/** Epoch milliseconds with sub-millisecond precision; the children stamp times the same way. */
export const preciseNow = () => performance.timeOrigin + performance.now();

export function fmt(value: number | undefined, digits = 0): string {
  if (value === undefined || !Number.isFinite(value)) return '—';
  return value.toLocaleString('en-US', {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
}

/** A line of progress on stderr (the table goes to stdout). */
export function progress(line: string): void {
  process.stderr.write(`${line}\n`);
}
