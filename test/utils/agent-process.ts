import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import type { AgentConfigFile } from '../../src/agent/agent-config.loader.js';
import { sleep } from './wait.js';

/**
 * Runs the built agent (`node dist/agent/main.js`) as a separate operating-system process, the
 * way an operator runs it: a JSON config file, the environment, and nothing shared with the
 * test's process but the database and the network. Lets a test SIGKILL an agent mid-flush,
 * or run several agents on one database.
 *
 * Every process started here is tracked: `stopAllAgentProcesses()` (for afterEach/afterAll)
 * stops those still running, and a last-resort `exit` hook SIGKILLs any left when the jest
 * worker itself goes away, so no stray node process outlives the run.
 */

/** The built agent; `npm test` builds it first (`pretest`). */
export const AGENT_MAIN = fileURLToPath(new URL('../../dist/agent/main.js', import.meta.url));
const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** An API key for the agents the tests start (the agent wants at least 16 characters). */
export const TEST_API_KEY = 'test-api-key-0123456789abcdef';

/** Logs kept per stream; older output is dropped (with a marker) beyond this. */
const LOG_CAP = 2 * 1024 * 1024;

export interface AgentProcessSettings {
  /** `sqlite:<path>`, `postgres://…` or `mysql://…`. */
  databaseUrl: string;
  /** Trackers (secrets named by `secretEnv`) and outbox options, written as the JSON config file. */
  config: AgentConfigFile;
  /** Further environment variables, e.g. the signing secrets named in the config. */
  env?: Record<string, string>;
  /** @default TEST_API_KEY */
  apiKey?: string;
  /** Where the config file is written; a fresh temp dir (removed on stop) if not given. */
  dir?: string;
  /** A name for messages and logs. @default 'agent' */
  name?: string;
  /** How long to wait for `GET /health` to answer 200. @default 30000 */
  startTimeoutMs?: number;
}

export interface AgentResponse<T = unknown> {
  status: number;
  body: T;
}

/** Picks a free port on loopback: listens on port 0, closes, hands the number back. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

const live = new Set<AgentProcess>();

// Last resort (a crashed test, a jest worker torn down): never leave an agent behind.
process.once('exit', () => {
  for (const agent of live) {
    try {
      process.kill(agent.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});

/** One agent process. Create it with `startAgentProcess()`. */
export class AgentProcess {
  readonly name: string;
  readonly url: string;
  readonly pid: number;
  /** Exit code, or null while running (or when ended by a signal). */
  exitCode: number | null = null;
  /** The signal that ended the process, if one did. */
  exitSignal: NodeJS.Signals | null = null;
  /** Resolves once the process has exited. */
  readonly exited: Promise<void>;
  private out = '';
  private err = '';
  private hasExited = false;

  constructor(
    private readonly child: ChildProcess,
    readonly port: number,
    private readonly apiKey: string,
    name: string,
    private readonly onGone: () => void,
  ) {
    this.name = name;
    this.url = `http://127.0.0.1:${port}`;
    this.pid = child.pid as number;
    child.stdout
      ?.setEncoding('utf8')
      .on('data', (chunk: string) => (this.out = capped(this.out + chunk)));
    child.stderr
      ?.setEncoding('utf8')
      .on('data', (chunk: string) => (this.err = capped(this.err + chunk)));
    this.exited = new Promise<void>((resolve) => {
      child.once('exit', (code, signal) => {
        this.exitCode = code;
        this.exitSignal = signal;
        this.hasExited = true;
        live.delete(this);
        this.onGone();
        resolve();
      });
    });
    live.add(this);
  }

  get running(): boolean {
    return !this.hasExited;
  }

  get stdout(): string {
    return this.out;
  }

  get stderr(): string {
    return this.err;
  }

  /** Both streams, for error messages and assertions on what the agent logged. */
  get logs(): string {
    return `--- ${this.name} (pid ${this.pid}) stdout ---\n${this.out}\n--- ${this.name} stderr ---\n${this.err}`;
  }

  /** Sends `signal` and returns once the process has exited. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (this.hasExited) return;
    try {
      this.child.kill(signal);
    } catch {
      // exited meanwhile
    }
    await this.exited;
  }

  /**
   * SIGTERM (the agent drains within its shutdown grace and closes the database), then waits;
   * SIGKILL if it has not exited after `graceMs`.
   */
  async stop(graceMs = 15_000): Promise<void> {
    if (this.hasExited) return;
    this.child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>(
      (resolve) => (timer = setTimeout(() => resolve('timeout'), graceMs)),
    );
    const outcome = await Promise.race([this.exited.then(() => 'exited' as const), timeout]);
    clearTimeout(timer);
    if (outcome === 'timeout') await this.kill('SIGKILL');
  }

  /**
   * Whether the process ended by itself after a SIGTERM (or with code 0): Nest's shutdown
   * hooks close the app, then raise the signal again, so the process ends "by SIGTERM".
   */
  get exitedCleanly(): boolean {
    return this.hasExited && (this.exitCode === 0 || this.exitSignal === 'SIGTERM');
  }

  async request<T = unknown>(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<AgentResponse<T>> {
    const response = await fetch(`${this.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${this.apiKey}`,
        ...(body !== undefined && { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON: keep the text
    }
    return { status: response.status, body: parsed as T };
  }

  post<T = unknown>(path: string, body: unknown): Promise<AgentResponse<T>> {
    return this.request<T>('POST', path, body);
  }

  get<T = unknown>(path: string): Promise<AgentResponse<T>> {
    return this.request<T>('GET', path);
  }
}

function capped(text: string): string {
  return text.length <= LOG_CAP ? text : `[… earlier output dropped …]\n${text.slice(-LOG_CAP)}`;
}

/**
 * Writes the config file, spawns the agent on a free port and waits until `GET /health`
 * answers 200. On failure the process is killed and the error carries its output.
 */
export async function startAgentProcess(settings: AgentProcessSettings): Promise<AgentProcess> {
  if (!existsSync(AGENT_MAIN)) {
    throw new Error(`${AGENT_MAIN} does not exist: run \`npm run build\` first (npm test does)`);
  }
  const name = settings.name ?? 'agent';
  const ownDir = settings.dir === undefined;
  const dir = settings.dir ?? mkdtempSync(join(tmpdir(), 'postback-agent-'));
  const configPath = join(dir, `${name.replace(/[^a-z0-9_-]/gi, '_')}-${Date.now()}.json`);
  writeFileSync(configPath, JSON.stringify(settings.config, null, 2));
  const apiKey = settings.apiKey ?? TEST_API_KEY;
  const removeDir = () => {
    if (ownDir) rmSync(dir, { recursive: true, force: true });
  };

  // A port picked this way can be taken by someone else before the agent binds it: try again.
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const child = spawn(process.execPath, [AGENT_MAIN], {
      cwd: REPO_ROOT,
      env: {
        // Only what the agent needs: nothing of the test runner's environment leaks in.
        PATH: process.env.PATH ?? '',
        ...(process.env.HOME && { HOME: process.env.HOME }),
        ...(process.env.TMPDIR && { TMPDIR: process.env.TMPDIR }),
        NO_COLOR: '1',
        PORT: String(port),
        HOST: '127.0.0.1',
        DATABASE_URL: settings.databaseUrl,
        POSTBACK_CONFIG: configPath,
        POSTBACK_API_KEY: apiKey,
        ...settings.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    if (child.pid === undefined) {
      removeDir();
      throw new Error(`could not spawn ${AGENT_MAIN}`);
    }
    const agent = new AgentProcess(child, port, apiKey, name, removeDir);
    try {
      await waitForHealth(agent, settings.startTimeoutMs ?? 30_000);
      return agent;
    } catch (error) {
      await agent.kill('SIGKILL');
      if (attempt < 3 && /EADDRINUSE/.test(agent.stderr + agent.stdout)) continue;
      throw new Error(`${(error as Error).message}\n${agent.logs}`);
    }
  }
}

async function waitForHealth(agent: AgentProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer yet';
  while (Date.now() < deadline) {
    if (!agent.running) {
      throw new Error(
        `agent "${agent.name}" exited before /health answered (code ${agent.exitCode}, signal ${agent.exitSignal})`,
      );
    }
    try {
      const response = await fetch(`${agent.url}/health`, {
        signal: AbortSignal.timeout(2_000),
      });
      last = `${response.status} ${await response.text()}`;
      if (response.status === 200) return;
    } catch (error) {
      last = (error as Error).message;
    }
    await sleep(100);
  }
  throw new Error(
    `agent "${agent.name}" did not answer GET /health with 200 within ${timeoutMs} ms (last: ${last})`,
  );
}

/** Agents started by this worker and still running. */
export function liveAgentProcesses(): AgentProcess[] {
  return [...live];
}

/** Stops every agent still running (SIGTERM, then SIGKILL); for afterEach/afterAll. */
export async function stopAllAgentProcesses(graceMs = 10_000): Promise<void> {
  await Promise.all([...live].map((agent) => agent.stop(graceMs)));
}

/** SIGKILLs every agent still running; for cleanup after a failure. */
export async function killAllAgentProcesses(): Promise<void> {
  await Promise.all([...live].map((agent) => agent.kill('SIGKILL')));
}
