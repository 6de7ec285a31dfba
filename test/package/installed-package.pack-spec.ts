import { type ChildProcess, execFile, spawn } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';

import { FakeTracker } from '../../src/testing/index.js';
import { freePort } from '../utils/agent-process.js';
import { eventually } from '../utils/wait.js';

/**
 * The package as a shop gets it: packed from a tree with no dist/ (so `prepack` must build),
 * installed with plain `npm install` (no --force, no --legacy-peer-deps: npm refuses peers that
 * do not resolve) into an empty app of each supported stack, then used through its bins and
 * both module formats. Slow (two installs): `npm run test:package`, which `.ci/run` calls.
 */
const ROOT = join(import.meta.dirname, '../..');
const run = promisify(execFile);
const API_KEY = 'package-test-api-key-0123456789';

/** The stacks, as `npm install` arguments besides the tarball. */
const devVersion = (name: string) =>
  (
    JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).devDependencies as Record<
      string,
      string
    >
  )[name];
const STACKS = {
  // Nest 12 on ES modules with TypeORM 1.x: the versions this repo develops against.
  esm: [
    `better-sqlite3@${devVersion('better-sqlite3')}`,
    `@nestjs/platform-express@${devVersion('@nestjs/platform-express')}`,
  ],
  // Nest 11 on CommonJS with TypeORM 0.3.x, as `nest new` (CLI 11) scaffolds a shop.
  cjs: [
    '@nestjs/common@11',
    '@nestjs/core@11',
    '@nestjs/platform-express@11',
    '@nestjs/typeorm@11',
    '@nestjs/schedule@6',
    'typeorm@0.3',
    'better-sqlite3@12',
    'reflect-metadata@0.2',
    'rxjs@7',
  ],
} as const;

let work: string;
let tarball: string;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'postback-package-'));
  // A clean tree: the files git knows (committed or not), without dist/ or node_modules.
  const clone = join(work, 'clone');
  const { stdout } = await run(
    'git',
    ['ls-files', '-z', '--cached', '--others', '--exclude-standard'],
    {
      cwd: ROOT,
      maxBuffer: 16 * 1024 * 1024,
    },
  );
  for (const file of stdout.split('\0').filter(Boolean)) {
    if (!existsSync(join(ROOT, file))) continue;
    mkdirSync(dirname(join(clone, file)), { recursive: true });
    cpSync(join(ROOT, file), join(clone, file));
  }
  symlinkSync(join(ROOT, 'node_modules'), join(clone, 'node_modules'));
  expect(existsSync(join(clone, 'dist'))).toBe(false);
  const packed = await run('npm', ['pack', '--json', '--pack-destination', work], {
    cwd: clone,
    maxBuffer: 64 * 1024 * 1024,
    timeout: 300_000,
  });
  const [entry] = JSON.parse(packed.stdout.slice(packed.stdout.indexOf('['))) as {
    filename: string;
  }[];
  tarball = join(work, entry.filename);
}, 400_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

/** An empty app of the stack, the tarball installed in it. */
async function installApp(stack: keyof typeof STACKS): Promise<string> {
  const app = join(work, `${stack}-app`);
  mkdirSync(app);
  const pkg = {
    name: `${stack}-shop`,
    version: '1.0.0',
    private: true,
    ...(stack === 'esm' && { type: 'module' }),
  };
  writeFileSync(join(app, 'package.json'), JSON.stringify(pkg));
  await run(
    'npm',
    ['install', '--no-audit', '--no-fund', '--prefer-offline', tarball, ...STACKS[stack]],
    {
      cwd: app,
      maxBuffer: 64 * 1024 * 1024,
      timeout: 500_000,
    },
  );
  return app;
}

/** Runs `node` in the app. */
async function node(app: string, args: string[]): Promise<string> {
  const { stdout } = await run(process.execPath, args, { cwd: app, timeout: 60_000 });
  return stdout.trim();
}

/**
 * `npx nestjs-postback-agent` on SQLite, from the app's directory: a click, then a purchase, must
 * come out as one postback to the receiver.
 */
async function agentDeliversAPostback(app: string): Promise<void> {
  const receiver = await new FakeTracker().start();
  const port = await freePort();
  writeFileSync(
    join(app, 'postback.json'),
    JSON.stringify({
      trackers: [
        {
          name: 'network',
          clickParams: ['cid'],
          postback: { url: `${receiver.url()}?cid={click_id}&txid={order_id}&payout={payout}` },
          commission: { purchase: { percent: '10' } },
        },
      ],
      outbox: { flushIntervalMs: 50 },
    }),
  );
  const agent: ChildProcess = spawn('npx', ['--no-install', 'nestjs-postback-agent'], {
    cwd: app,
    env: {
      ...process.env,
      PORT: String(port),
      DATABASE_URL: `sqlite:${join(app, 'agent.sqlite')}`,
      POSTBACK_CONFIG: join(app, 'postback.json'),
      POSTBACK_API_KEY: API_KEY,
      HOST: '127.0.0.1',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let log = '';
  agent.stdout?.on('data', (chunk: Buffer) => (log += chunk));
  agent.stderr?.on('data', (chunk: Buffer) => (log += chunk));
  const base = `http://127.0.0.1:${port}`;
  const call = (path: string, body: unknown) =>
    fetch(`${base}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  const withLog = (error: Error) => {
    throw new Error(`${error.message}; agent log:\n${log}`);
  };
  try {
    await eventually(
      async () => (await fetch(`${base}/health`).catch(() => undefined))?.status === 200,
      60_000,
      'GET /health to answer 200',
      200,
    ).catch(withLog);
    expect(
      (
        await call('/v1/clicks', {
          clickId: 'CLICK-1',
          tracker: 'network',
          sessionKey: 'visitor-1',
        })
      ).status,
    ).toBe(200);
    const purchase = {
      type: 'purchase',
      orderId: 'ORDER-1',
      amount: '20.00',
      currency: 'EUR',
      sessionKey: 'visitor-1',
    };
    expect((await call('/v1/events', purchase)).status).toBe(202);
    await eventually(() => receiver.received.length > 0, 30_000, 'the postback', 200).catch(
      withLog,
    );
    expect(receiver.received.map((r) => r.fields)).toEqual([
      { cid: 'CLICK-1', txid: 'ORDER-1', payout: '2.00' },
    ]);
  } finally {
    // npx runs the agent as its child: end the whole group it leads (if it is still up).
    try {
      if (agent.pid) process.kill(-agent.pid, 'SIGTERM');
    } catch {
      // it had exited already: its log is in the failure above
    }
    await receiver.stop();
  }
}

describe.each(Object.keys(STACKS) as (keyof typeof STACKS)[])(
  'the packed tarball on the %s stack',
  (stack) => {
    let app: string;

    beforeAll(async () => {
      app = await installApp(stack);
    }, 600_000);

    // On Nest 11 the CommonJS build requires CommonJS packages only, so it loads where Node
    // cannot require() ES modules (Node 20 before 20.19); Nest 12 itself is ES modules only.
    const requireFlags = stack === 'cjs' ? ['--no-experimental-require-module'] : [];

    it('loads through both module formats', async () => {
      const names = (code: string) => JSON.parse(code) as string[];
      const required = names(
        await node(app, [
          ...requireFlags,
          '-e',
          "console.log(JSON.stringify(Object.keys(require('nestjs-postback')).concat(Object.keys(require('nestjs-postback/testing')))))",
        ]),
      );
      const imported = names(
        await node(app, [
          '--input-type=module',
          '-e',
          "console.log(JSON.stringify(Object.keys(await import('nestjs-postback')).concat(Object.keys(await import('nestjs-postback/testing')))))",
        ]),
      );
      expect(required).toEqual(
        expect.arrayContaining(['PostbackModule', 'ConversionService', 'FakeTracker']),
      );
      expect(imported.sort()).toEqual(required.filter((n) => n !== 'default').sort());
    }, 60_000);

    it('runs the nestjs-postback CLI', async () => {
      const config = join(app, 'node_modules/nestjs-postback/config/postback.yaml');
      const { stdout } = await run(
        'npx',
        ['--no-install', 'nestjs-postback', 'validate', '--config', config],
        {
          cwd: app,
          timeout: 60_000,
        },
      );
      expect(stdout).toMatch(/OK \(1 tracker\)/);
    }, 60_000);

    it('runs the nestjs-postback-agent binary, which delivers a postback', async () => {
      await agentDeliversAPostback(app);
    }, 120_000);
  },
);
