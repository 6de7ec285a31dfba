/**
 * The orchestrator's side of the child processes (bench/processes): starting them, talking to
 * them, stopping them. Each writes its output to bench-results/logs/<name>.log.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { join } from 'node:path';

import { sleep, throwIfAborted } from './abort.js';
import type { ChildMessage } from './messages.js';
import { LOGS, PROCESSES, PROFILES, ROOT } from './paths.js';

export type SqliteLevel = 'FULL' | 'NORMAL';

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

  /**
   * `script` is a file of bench/processes (compiled, `.js`); `args` go to the child as
   * `--key=value`; SQLite runs at FULL unless `synchronous` says.
   */
  static start(name: string, script: string, args: Record<string, string | number> = {}): Child {
    mkdirSync(LOGS, { recursive: true });
    const execArgv = process.env.BENCH_CPU_PROF
      ? ['--cpu-prof', `--cpu-prof-dir=${PROFILES}`, `--cpu-prof-name=${name}.cpuprofile`]
      : [];
    const proc = fork(
      join(PROCESSES, script),
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

  /** Asks a server child for its status (see bench/processes/server.ts). */
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

/** Kills every child of the figure running now. */
export function killRunning(): void {
  for (const child of running) child.kill();
  running.clear();
}
