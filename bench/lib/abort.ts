/**
 * Figures that fail or run out of time. The figure running now is marked aborted by the
 * runner: its code, still running in the background, then throws at its next sleep, child
 * start or receiver call, so it can neither start children nor reset the receiver's counts
 * under the next figure.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

const figureContext = new AsyncLocalStorage<{ aborted?: string }>();

export function runFigure<T>(work: () => Promise<T>): {
  result: Promise<T>;
  abort(why: string): void;
} {
  const context: { aborted?: string } = {};
  return {
    result: figureContext.run(context, work),
    abort: (why) => (context.aborted = why),
  };
}

export function throwIfAborted(): void {
  const aborted = figureContext.getStore()?.aborted;
  if (aborted) throw new Error(`figure abandoned: ${aborted}`);
}

export async function sleep(ms: number): Promise<void> {
  throwIfAborted();
  await new Promise((resolve) => setTimeout(resolve, ms));
  throwIfAborted();
}
