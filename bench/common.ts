import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { ConsoleLogger } from '@nestjs/common';

import type { TrackerOptions } from '../src/interfaces/index.js';

/** Messages between the orchestrator (bench/main.ts) and its child processes. */
export type ChildMessage =
  | { type: 'ready'; port?: number; [key: string]: unknown }
  | { type: 'result'; data: Record<string, unknown> }
  | { type: 'stats'; data: Record<string, unknown> }
  | { type: 'status'; data: Record<string, unknown> }
  | { type: 'error'; message: string };

/** 'stop', 'stats' {reset?, arrivals?}, 'status' {resetPeak?, counts?}: see each child. */
export type ParentMessage = { type: string; [key: string]: unknown };

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

/** A fresh temporary directory, removed on `remove()`. */
export function tempDir(prefix: string): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), `nestjs-postback-bench-${prefix}-`));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

export const TRACKER = 'bench';

/**
 * The one tracker every figure uses: click ID in `cid`, purchases posted with a 7.5 %
 * commission. No signing (HMAC would add a little CPU per send on both sides of nothing).
 */
export function benchTracker(receiverUrl: string): TrackerOptions {
  return {
    name: TRACKER,
    clickParams: ['cid'],
    postback: {
      url: `${receiverUrl}/postback?cid={click_id}&txid={order_id}&payout={payout}&currency={payout_currency}`,
    },
    events: ['purchase'],
    commission: { purchase: { percent: '7.5' } },
  };
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

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const index = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, index)];
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

/**
 * Samples this process's resident set size every `intervalMs` (process.memoryUsage.rss(), one
 * cheap read): the peak since the last `resetPeak()`, and one point per second of the highest
 * sample in it, for the timeline of a long run.
 */
export function rssSampler(intervalMs = 50) {
  const started = Date.now();
  let peak = 0;
  /** What the process held at the peak: V8's heap (this thread's), and memory outside it. */
  let atPeak: Record<string, number> = {};
  let secondPeak = 0;
  let second = 0;
  const timeline: [seconds: number, mb: number][] = [];
  const mb = (bytes: number) => Math.round(bytes / 2 ** 20);
  const sample = () => {
    const rss = process.memoryUsage.rss();
    if (rss > peak) {
      peak = rss;
      // Only at a new peak: the full reading walks V8's heap spaces.
      const { heapTotal, heapUsed, external, arrayBuffers } = process.memoryUsage();
      atPeak = {
        heapTotal: mb(heapTotal),
        heapUsed: mb(heapUsed),
        external: mb(external),
        arrayBuffers: mb(arrayBuffers),
      };
    }
    const now = Math.floor((Date.now() - started) / 1000);
    if (now !== second) {
      if (secondPeak > 0) timeline.push([second, mb(secondPeak)]);
      second = now;
      secondPeak = 0;
    }
    secondPeak = Math.max(secondPeak, rss);
  };
  sample();
  const timer = setInterval(sample, intervalMs);
  timer.unref();
  return {
    currentMb: () => mb(process.memoryUsage.rss()),
    peakMb: () => mb(peak),
    /** The main thread's V8 heap and external memory at the peak, MB. */
    atPeakMb: () => atPeak,
    resetPeak(): void {
      peak = 0;
      sample();
    },
    /** [seconds since start, MB] per second, at most `points` of them (evenly thinned). */
    timeline(points = 120): [number, number][] {
      const step = Math.max(1, Math.ceil(timeline.length / points));
      return timeline.filter((_, i) => i % step === 0 || i === timeline.length - 1);
    },
    stop: () => clearInterval(timer),
  };
}

/** Nest's console logger (errors and warnings only) that counts what it logs at ERROR. */
export class CountingLogger extends ConsoleLogger {
  errors = 0;
  constructor() {
    super('Bench', { logLevels: ['error', 'warn', 'fatal'] });
  }
  override error(message: unknown, ...rest: unknown[]): void {
    this.errors++;
    super.error(message, ...rest);
  }
}

/**
 * A /proc `stat` line's name and CPU time (ms, user + system). The name is in parentheses and
 * may hold spaces, so the other fields are counted after its end; USER_HZ is 100 on Linux.
 */
function parseStat(stat: string): { name: string; cpuMs: number } {
  const end = stat.lastIndexOf(')');
  const fields = stat.slice(end + 2).split(' ');
  return {
    name: stat.slice(stat.indexOf('(') + 1, end),
    cpuMs: (Number(fields[11]) + Number(fields[12])) * 10,
  };
}

/** The entries of a /proc directory, or none where there is no /proc. */
function procEntries(path: string): string[] {
  try {
    return readdirSync(path);
  } catch {
    return [];
  }
}

/**
 * CPU time (ms, user + system) each thread of this process has used so far, read from
 * /proc/self/task (Linux; empty elsewhere). The main thread is `main`; the others are summed by
 * their kernel name (on Node 20 all are `node`: the SQLite writer's worker thread, libuv's pool,
 * V8's helpers), so a figure can say how much of its cost lands off the main thread: on two
 * cores, a second busy thread competes with the load generator or the receiver.
 */
export function threadCpuMs(): Record<string, number> {
  const byThread: Record<string, number> = {};
  for (const tid of procEntries('/proc/self/task')) {
    try {
      const { name, cpuMs } = parseStat(readFileSync(`/proc/self/task/${tid}/stat`, 'utf8'));
      const thread = Number(tid) === process.pid ? 'main' : name;
      byThread[thread] = (byThread[thread] ?? 0) + cpuMs;
    } catch {
      // the thread ended meanwhile
    }
  }
  return byThread;
}

/** What each thread used since `before` (from `threadCpuMs`), in ms. */
export function threadCpuSince(before: Record<string, number>): Record<string, number> {
  return Object.fromEntries(
    Object.entries(threadCpuMs()).map(([name, ms]) => [name, ms - (before[name] ?? 0)]),
  );
}

/** What each thread used since `before` (from `threadCpuMs`), in µs per item. */
export function threadCpuPerItem(
  before: Record<string, number>,
  items: number,
): Record<string, number> {
  return perItemUs(threadCpuSince(before), items);
}

/** CPU times in ms as µs per item, those that used none left out. */
export function perItemUs(cpuMs: Record<string, number>, items: number): Record<string, number> {
  const perItem: Record<string, number> = {};
  for (const [name, ms] of Object.entries(cpuMs)) {
    if (ms > 0) perItem[name] = Math.round((ms * 1000) / Math.max(1, items));
  }
  return perItem;
}

/**
 * CPU time (ms) used so far by the processes of this machine named `name` (PostgreSQL's
 * server and backends are all `postgres`), read from /proc: the database's share of a figure
 * whose server runs here. Processes that end in between are not counted, so read it while the
 * connections of interest are open.
 */
export function processesCpuMs(name: string): number {
  let total = 0;
  for (const pid of procEntries('/proc').filter((entry) => /^\d+$/.test(entry))) {
    try {
      const stat = parseStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
      if (stat.name === name) total += stat.cpuMs;
    } catch {
      // the process ended meanwhile
    }
  }
  return total;
}
