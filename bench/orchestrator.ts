/**
 * The orchestrator's side of the child processes (bench/main.ts and the figures): starting
 * them, talking to them, stopping them, the shared receiver, PostgreSQL scratch databases, and
 * the progress output.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { type ChildProcess, fork } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

import { postgres, type ScratchDatabase } from '../test/utils/db-servers.js';
import type { ChildMessage } from './common.js';

const HERE = dirname(fileURLToPath(import.meta.url));
export const ROOT = resolve(HERE, '..', '..'); // dist-bench/bench -> repository root
export const RESULTS = join(ROOT, 'bench-results');
const LOGS = join(RESULTS, 'logs');
const PROFILES = join(RESULTS, 'profiles');

export type SqliteLevel = 'FULL' | 'NORMAL';

// ---------------------------------------------------------------------------------------------
// Figures that fail or run out of time

/**
 * The figure running now. When it fails or its time box runs out, main.ts marks it aborted:
 * its code, still running in the background, then throws at its next sleep, child start or
 * receiver call, so it can neither start children nor reset the receiver's counts under the
 * next figure.
 */
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

function throwIfAborted(): void {
  const aborted = figureContext.getStore()?.aborted;
  if (aborted) throw new Error(`figure abandoned: ${aborted}`);
}

export async function sleep(ms: number): Promise<void> {
  throwIfAborted();
  await new Promise((resolve) => setTimeout(resolve, ms));
  throwIfAborted();
}
/** Epoch milliseconds with sub-millisecond precision; the children stamp times the same way. */
export const preciseNow = () => performance.timeOrigin + performance.now();

export function fmt(value: number | undefined, digits = 0): string {
  if (value === undefined || !Number.isFinite(value)) return '—';
  return value.toLocaleString('en-US', {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
}

export function progress(line: string): void {
  process.stderr.write(`${line}\n`);
}

// ---------------------------------------------------------------------------------------------
// Child processes

export class Child {
  private readonly messages: ChildMessage[] = [];
  private readonly waiters = new Set<() => void>();
  private exited?: { code: number | null; signal: NodeJS.Signals | null };

  private constructor(
    readonly name: string,
    private readonly proc: ChildProcess,
  ) {
    proc.on('message', (message: ChildMessage) => {
      this.messages.push(message);
      this.wakeAll();
    });
    proc.on('exit', (code, signal) => {
      this.exited = { code, signal };
      this.wakeAll();
    });
  }

  /** `args` go to the child as `--key=value`; SQLite runs at FULL unless `synchronous` says. */
  static start(name: string, script: string, args: Record<string, string | number> = {}): Child {
    mkdirSync(LOGS, { recursive: true });
    const execArgv = process.env.BENCH_CPU_PROF
      ? ['--cpu-prof', `--cpu-prof-dir=${PROFILES}`, `--cpu-prof-name=${name}.cpuprofile`]
      : [];
    const proc = fork(
      join(HERE, script),
      Object.entries({ synchronous: 'FULL', ...args }).map(([key, value]) => `--${key}=${value}`),
      { cwd: ROOT, execArgv, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] },
    );
    const log = createWriteStream(join(LOGS, `${name}.log`));
    proc.stdout?.pipe(log);
    proc.stderr?.pipe(log);
    return new Child(name, proc);
  }

  get pid(): number | undefined {
    return this.proc.pid;
  }

  private wakeAll(): void {
    for (const wake of this.waiters) wake();
  }

  /** The next message of `type` (an 'error' message or an exit rejects). */
  async next<T extends ChildMessage['type']>(
    type: T,
    timeoutMs: number,
  ): Promise<Extract<ChildMessage, { type: T }>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const index = this.messages.findIndex((m) => m.type === type || m.type === 'error');
      if (index >= 0) {
        const [message] = this.messages.splice(index, 1);
        if (message.type === 'error') throw new Error(`${this.name}: ${message.message}`);
        return message as Extract<ChildMessage, { type: T }>;
      }
      if (this.exited) {
        throw new Error(
          `${this.name} exited (${this.exited.code ?? this.exited.signal}) before "${type}"; see bench-results/logs/${this.name}.log`,
        );
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`${this.name}: no "${type}" within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const wake = () => {
          clearTimeout(timer);
          this.waiters.delete(wake);
          resolve();
        };
        const timer = setTimeout(wake, left);
        this.waiters.add(wake);
      });
    }
  }

  send(message: { type: string; [key: string]: unknown }): void {
    if (!this.exited) this.proc.send(message);
  }

  /** Asks a server child for its status (see bench/server.ts). */
  async status(
    options: { resetPeak?: boolean; counts?: boolean } = {},
    timeoutMs = 30_000,
  ): Promise<Record<string, unknown>> {
    this.send({ type: 'status', ...options });
    return (await this.next('status', timeoutMs)).data;
  }

  /** Asks the child to stop and waits for its final stats; kills it if it does not answer. */
  async stop(timeoutMs = 20_000): Promise<Record<string, unknown> | undefined> {
    if (this.exited) return undefined;
    this.send({ type: 'stop' });
    try {
      return (await this.next('stats', timeoutMs)).data;
    } catch {
      return undefined;
    } finally {
      await this.waitForExit(5_000);
    }
  }

  async waitForExit(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.exited && Date.now() < deadline) await sleep(50);
    this.kill();
  }

  kill(): void {
    if (!this.exited && this.proc.pid) this.proc.kill('SIGKILL');
  }
}

/** Children started for the figure running now; killed when it fails or runs out of time. */
export const running = new Set<Child>();

export function start(
  name: string,
  script: string,
  args: Record<string, string | number> = {},
): Child {
  throwIfAborted();
  const child = Child.start(name, script, args);
  running.add(child);
  return child;
}

export async function finish(child: Child): Promise<Record<string, unknown> | undefined> {
  try {
    return await child.stop();
  } finally {
    running.delete(child);
  }
}

/** Runs a child that measures something and sends one result. */
export async function measureInChild(
  name: string,
  script: string,
  args: Record<string, string | number>,
  timeoutMs: number,
): Promise<Record<string, unknown>> {
  const child = start(name, script, args);
  try {
    return (await child.next('result', timeoutMs)).data;
  } finally {
    await child.waitForExit(5_000);
    running.delete(child);
  }
}

// ---------------------------------------------------------------------------------------------
// The receiver (one for the whole run)

let receiver: { child: Child; url: string } | undefined;

export function isReceiver(child: Child): boolean {
  return child === receiver?.child;
}

export async function receiverUrl(): Promise<string> {
  throwIfAborted();
  if (!receiver) {
    const child = Child.start('receiver', 'receiver.js');
    const ready = await child.next('ready', 15_000);
    receiver = { child, url: String(ready.url) };
  }
  return receiver.url;
}

export interface ReceiverStats {
  received: number;
  distinctTxids: number;
  duplicates: number;
  withoutTxid: number;
  byPath: Record<string, number>;
  firstArrivalAt?: number;
  lastArrivalAt?: number;
  /** The receiver's CPU since the last reset, µs. */
  cpu: NodeJS.CpuUsage;
  arrivals?: Record<string, number>;
}

/** What the receiver saw since the last reset; `reset` starts counting afresh. */
export async function receiverStats(
  options: { reset?: boolean; arrivals?: boolean } = { reset: true },
): Promise<ReceiverStats> {
  throwIfAborted();
  if (!receiver) await receiverUrl();
  const child = (receiver as { child: Child }).child;
  child.send({ type: 'stats', ...options });
  return (await child.next('stats', 30_000)).data as unknown as ReceiverStats;
}

export async function stopReceiver(): Promise<void> {
  await receiver?.child.stop();
  receiver = undefined;
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL scratch databases (created through the server's `test` database, as the tests do)

const scratches = new Set<ScratchDatabase>();

/** A fresh database on the local PostgreSQL; dropped by `dropScratch` (or at exit). */
export async function postgresScratch(): Promise<ScratchDatabase> {
  const probe = await postgres.probe();
  if (!probe.ok) {
    throw new Error(
      `PostgreSQL not reachable at ${postgres.host}:${postgres.port} (${probe.reason})`,
    );
  }
  const scratch = await postgres.createScratchDatabase(probe);
  scratches.add(scratch);
  return scratch;
}

export async function dropScratch(scratch: ScratchDatabase): Promise<void> {
  scratches.delete(scratch);
  await scratch
    .drop()
    .catch((error: Error) => progress(`  could not drop ${scratch.name}: ${error.message}`));
}

export async function dropAllScratches(): Promise<void> {
  await Promise.all([...scratches].map(dropScratch));
}

/** Kills every child (the receiver too) and drops the scratch databases: the run is over. */
export async function tearDown(): Promise<void> {
  for (const child of running) child.kill();
  running.clear();
  receiver?.child.kill();
  receiver = undefined;
  await dropAllScratches();
}
