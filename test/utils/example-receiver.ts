import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';

import { freePort } from './agent-process.js';
import { eventually } from './wait.js';

/** The receiver examples of docs/verifying-postbacks.md, which these tests run as they are. */
export const EXAMPLES = {
  php: fileURLToPath(new URL('../../docs/examples/verify-get.php', import.meta.url)),
  node: fileURLToPath(new URL('../../docs/examples/verify-get.mjs', import.meta.url)),
};

/** Why `php` cannot run here, or undefined when it can. */
export function phpUnavailable(): string | undefined {
  const probe = spawnSync('php', ['--version'], { encoding: 'utf8' });
  if (probe.error) return `php is not installed (${probe.error.message}); install php-cli`;
  return probe.status === 0 ? undefined : `php --version exited with ${probe.status}`;
}

export interface ExampleReceiver {
  url: (path?: string) => string;
  /** What it printed, for a failing test's message. */
  output: () => string;
  stop: () => Promise<void>;
}

/**
 * Starts one example as its README says (`php -S … verify-get.php`, `node verify-get.mjs`)
 * with the secrets and coverage in its environment; resolves once it answers HTTP.
 */
export async function startExampleReceiver(
  kind: keyof typeof EXAMPLES,
  secrets: string[],
  covers?: 'query',
): Promise<ExampleReceiver> {
  const port = await freePort();
  const env = {
    PATH: process.env.PATH,
    PORT: String(port),
    POSTBACK_SECRET: secrets.join(' '),
    ...(covers && { POSTBACK_COVERS: covers }),
  };
  const child: ChildProcess =
    kind === 'php'
      ? spawn('php', ['-S', `127.0.0.1:${port}`, EXAMPLES.php], { env })
      : spawn(process.execPath, [EXAMPLES.node], { env });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const url = (path = '/postback') => `http://127.0.0.1:${port}${path}`;
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  };
  try {
    await eventually(
      () =>
        fetch(url('/')).then(
          (r) => (r.status === 401 ? true : undefined),
          () => undefined,
        ),
      10_000,
      `the ${kind} example to answer (output: ${output})`,
      50,
    );
  } catch (error) {
    await stop();
    throw error;
  }
  return { url, output: () => output, stop };
}

/** One request a proxy passed on: the request target it sent, and the answer it got. */
export interface ProxiedRequest {
  target: string;
  status: number;
  body: string;
}

/**
 * A reverse proxy in front of a receiver that records what it passed on and the answer. With
 * `rewrite`, like nginx's `location /tracking/ { proxy_pass http://receiver/; }`: the
 * location's prefix is replaced and the path passed on decoded (normalised), the query as is.
 */
export class RecordingProxy {
  readonly passed: ProxiedRequest[] = [];
  private readonly server = http.createServer((req, res) => {
    const raw = req.url ?? '/';
    const question = raw.indexOf('?');
    const path = question === -1 ? raw : raw.slice(0, question);
    const query = question === -1 ? '' : raw.slice(question);
    const target = this.rewrite
      ? decodeURIComponent(path.replace(/^\/tracking\//, '/')) + query
      : raw;
    http
      .get(`${this.upstream}${target}`, (upstream) => {
        const chunks: Buffer[] = [];
        upstream.on('data', (chunk: Buffer) => chunks.push(chunk));
        upstream.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8');
          this.passed.push({ target, status: upstream.statusCode ?? 0, body });
          res.writeHead(upstream.statusCode ?? 502, upstream.headers).end(body);
        });
      })
      .on('error', (error) => res.writeHead(502).end(error.message));
  });

  constructor(
    private readonly upstream: string,
    private readonly rewrite: boolean,
  ) {}

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return this;
  }

  url(path = '/tracking/postback'): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}${path}`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
