import { eventually } from './wait.js';

/**
 * `eventually` at a database's pace (every 250 ms). Kept under this name for bench/, which
 * imports it; tests call `eventually` from wait.ts.
 */
export function poll<T>(
  check: () => Promise<T | undefined>,
  timeoutMs: number,
  what: string,
  intervalMs = 250,
): Promise<T> {
  return eventually(check, timeoutMs, what, intervalMs);
}
