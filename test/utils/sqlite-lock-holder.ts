import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The other process's side: take the write lock, say so, hold it, let go, say so. */
const HOLDER = `
const Database = require('better-sqlite3');
const [file, ms] = process.argv.slice(1);
const db = new Database(file, { timeout: 10000 });
db.exec('BEGIN IMMEDIATE');
process.stdout.write('held\\n');
setTimeout(() => {
  db.exec('ROLLBACK');
  db.close();
  process.stdout.write('released\\n');
}, Number(ms));
`;

export interface HeldLock {
  /** Whether the other process still holds the lock (false once it said it let go). */
  readonly held: boolean;
  /** Resolves once the other process has let go of the lock and exited. */
  released: Promise<void>;
}

/**
 * Another operating-system process (node with better-sqlite3, as portable as the tests) that
 * opens `file`, takes its write lock with `BEGIN IMMEDIATE` and holds it for `ms`, as the
 * `sqlite3` shell in an open transaction, or a backup, would. Resolves once the lock is held.
 */
export async function holdSqliteWriteLock(file: string, ms: number): Promise<HeldLock> {
  const child = spawn(process.execPath, ['-e', HOLDER, file, String(ms)], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const state = { held: false };
  let output = '';
  const released = new Promise<void>((resolve, reject) => {
    child.on('exit', (code) => {
      state.held = false;
      if (code === 0 && output.includes('released')) resolve();
      else reject(new Error(`the lock holder exited with ${code}: ${output}`));
    });
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      state.held = output.includes('held') && !output.includes('released');
      if (output.includes('held')) resolve();
    });
    released.catch(reject);
  });
  return {
    get held() {
      return state.held;
    },
    released,
  };
}

/**
 * The longest time between two ticks of a 10 ms interval on this event loop, from now until
 * `stop()`: a loop held up (by a synchronous wait for a lock) shows as a long gap.
 */
export function watchEventLoop(): { stop: () => number } {
  let last = performance.now();
  let longest = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    longest = Math.max(longest, now - last);
    last = now;
  }, 10);
  return {
    stop: () => {
      clearInterval(timer);
      return Math.max(longest, performance.now() - last);
    },
  };
}
