/**
 * Polls `check` every `intervalMs` until it returns a value, or throws after `timeoutMs`: for
 * checks that ask a database or an agent process (the tests' `eventually` is for cheap ones).
 * The multi-process tests and the benchmark both use it.
 */
export async function poll<T>(
  check: () => Promise<T | undefined>,
  timeoutMs: number,
  what: string,
  intervalMs = 250,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
