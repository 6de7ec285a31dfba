import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';

import { type PostbackModuleOptions, PostbackConfigurationError } from '../src/index.js';
import { runCli } from '../src/cli/main.js';
import { startShopApp } from './fixtures/shop-app.js';
import { AGENT_MAIN } from './utils/agent-process.js';
import { tempDir } from './utils/sqlite.js';

/**
 * A misspelled option stops the start, wherever the options come from, with the key's path
 * and the key that was meant; and the error is printed once, as its message alone.
 */
const misspelt = (): PostbackModuleOptions =>
  ({
    trackers: [
      {
        name: 'net',
        clickParams: ['cid'],
        postback: { url: 'https://tracker.example/pb?c={click_id}&p={payout}' },
        commision: { purchase: { percent: '7.5' } },
        events: ['purchse'],
        retry: { maxAttemps: 3 },
      },
    ],
  }) as unknown as PostbackModuleOptions;

const EXPECTED = [
  'trackers[0].retry.maxAttemps: unknown option — did you mean "maxAttempts"?',
  'trackers[0].commision: unknown option — did you mean "commission"?',
  expect.stringMatching(
    /^trackers\[0\]\.events\[0\]: unknown event type "purchse" — did you mean "purchase"\?/,
  ),
];

const YAML = `
trackers:
  - name: net
    clickParams: [cid]
    postback:
      url: https://tracker.example/pb?c={click_id}&p={payout}
    commision:
      purchase: { percent: "7.5" }
    events: [purchse]
    retry: { maxAttemps: 3 }
outbx:
  concurrency: 2
`;

describe('a misconfiguration stops the start', () => {
  let dir: ReturnType<typeof tempDir>;
  beforeEach(() => (dir = tempDir()));
  afterEach(() => dir.remove());

  /** `nestjs-postback validate` on a config file with this text: its exit code and lines. */
  async function validate(text: string) {
    const path = `${dir.path}/postback.yaml`;
    writeFileSync(path, text);
    const lines: string[] = [];
    const code = await runCli(['validate', '--config', path], {
      env: {},
      out: (line) => lines.push(line),
      fetch,
    });
    return { path, code, lines };
  }

  it.each([
    ['forRoot', false],
    ['the value forRootAsync resolves', true],
  ])('in %s', async (_how, async) => {
    const start = startShopApp({ databaseUrl: ':memory:', options: misspelt(), async });
    // An app that starts (the options were accepted) is closed, so the run does not hang.
    const error = await start.then(
      (app) => app.close(),
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(PostbackConfigurationError);
    expect((error as PostbackConfigurationError).problems).toEqual(EXPECTED);
  });

  it('in the agent config file read by `nestjs-postback validate`', async () => {
    const { path, code, lines } = await validate(YAML);
    expect(code).toBe(1);
    expect(lines).toEqual([
      `${path}: 4 problems`,
      '  - outbx: unknown option — did you mean "outbox"?',
      ...EXPECTED.map((p) => (typeof p === 'string' ? `  - ${p}` : expect.anything())),
    ]);
    expect(lines[4]).toMatch(/^ {2}- trackers\[0\]\.events\[0\]: unknown event type "purchse"/);
  });

  it('refuses a secret written in the config file, without printing it', async () => {
    const { path, code, lines } = await validate(`
trackers:
  - name: net
    clickParams: [cid]
    postback: { url: "https://tracker.example/pb?c={click_id}" }
    signing: { type: token, param: key, secret: written-in-the-file-123 }
`);
    expect(code).toBe(1);
    expect(lines).toEqual([
      `${path}: 2 problems`,
      '  - trackers[0].signing.secret: a secret is never written in the config file; name its environment variable with secretEnv',
      '  - trackers[0].signing.secretEnv must name the environment variable holding the secret (a list for an HMAC rotation)',
    ]);
    expect(lines.join('\n')).not.toContain('written-in-the-file-123');
  });

  it('in the agent, which prints the message once and no stack trace', () => {
    const path = `${dir.path}/postback.yaml`;
    writeFileSync(path, YAML);
    const agent = spawnSync(process.execPath, [AGENT_MAIN], {
      env: {
        PATH: process.env.PATH,
        POSTBACK_CONFIG: path,
        DATABASE_URL: `sqlite:${dir.path}/agent.sqlite`,
        PORT: '0',
      },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(agent.status).toBe(1);
    const stderr = agent.stderr;
    expect(stderr.match(/nestjs-postback is misconfigured/g)).toHaveLength(1);
    expect(stderr.match(/commision: unknown option/g)).toHaveLength(1);
    expect(stderr).toContain(
      `nestjs-postback is misconfigured (${path}):\n  - outbx: unknown option — did you mean "outbox"?\n`,
    );
    expect(stderr).not.toMatch(/^ {4}at /m);
    expect(stderr).not.toContain('problems:');
    expect(agent.stdout).not.toContain('misconfigured');
  }, 70_000);
});
