/**
 * The child's side of the orchestrator's messages (bench/lib/children.ts), its arguments, and
 * the helpers every child process shares.
 */
import type { ChildMessage, ParentMessage } from '../lib/messages.js';

export function send(message: ChildMessage): Promise<void> {
  return new Promise((resolve, reject) => {
    if (!process.send) return reject(new Error('not started by the bench orchestrator (no IPC)'));
    process.send(message, (error: Error | null) => (error ? reject(error) : resolve()));
  });
}

/** Calls `handler` for each message the parent sends. */
export function onParentMessage(handler: (message: ParentMessage) => void | Promise<void>): void {
  process.on('message', (message: ParentMessage) => {
    Promise.resolve(handler(message)).catch((error: Error) => fail(error));
  });
}

/** Reports a failure to the parent and exits. */
export function fail(error: unknown): never {
  const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
  try {
    process.send?.({ type: 'error', message } satisfies ChildMessage);
  } catch {
    // the parent is gone
  }
  console.error(message);
  setTimeout(() => process.exit(1), 100);
  throw error;
}

/** The arguments a child was started with, `--name=value`. */
export function args(): Record<string, string> {
  return Object.fromEntries(
    process.argv
      .slice(2)
      .filter((a) => a.startsWith('--'))
      .map((a) => {
        const [key, ...value] = a.slice(2).split('=');
        return [key, value.join('=')];
      }),
  );
}

/**
 * The SQLite `synchronous` level under WAL the figures run with: the agent's default (FULL)
 * unless BENCH_SQLITE_SYNCHRONOUS=NORMAL; passed to the children as --synchronous.
 */
export function sqliteSynchronous(): 'FULL' | 'NORMAL' {
  const level = args().synchronous ?? process.env.BENCH_SQLITE_SYNCHRONOUS ?? 'FULL';
  if (level !== 'FULL' && level !== 'NORMAL')
    throw new Error(`synchronous must be FULL or NORMAL, not ${level}`);
  return level;
}

/** Runs `worker` on `concurrency` loops that together take `count` turns. */
export async function runConcurrently(
  count: number,
  concurrency: number,
  worker: (n: number) => Promise<unknown>,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      while (next < count) {
        const n = next++;
        await worker(n);
      }
    }),
  );
}
