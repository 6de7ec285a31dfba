import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { runCli } from '../src/cli/main.js';
import { POSTBACK_PRESETS } from '../src/postback/presets/index.js';

const CLI_MAIN = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));

/** The CLI in-process: exit code, stdout and stderr apart. */
async function cli(args: string[], fetchStub: typeof fetch = fetch) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(args, {
    env: {},
    out: (text) => out.push(text),
    err: (text) => err.push(text),
    fetch: fetchStub,
  });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

/** The built binary, as `npx nestjs-postback` runs it. */
async function binary(args: string[]) {
  return promisify(execFile)(process.execPath, [CLI_MAIN, ...args]).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (error: { code: number; stdout: string; stderr: string }) => error,
  );
}

describe('nestjs-postback --help', () => {
  it('describes the program and every command, on stdout, exit 0', async () => {
    const { code, stdout, stderr } = await binary(['--help']);
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    expect(stdout).toMatch(/^usage: nestjs-postback \[options\] \[command\]/);
    for (const command of ['validate', 'build', 'presets', 'secret', 'outbox']) {
      expect(stdout).toMatch(new RegExp(`^ {2}${command}\\b`, 'm'));
    }
  });

  it.each([
    [['validate'], '--config <file>'],
    [['build'], '--token-env <var>'],
    [['presets'], '[name]'],
    [['secret'], 'whsec_'],
    [['outbox'], 'POSTBACK_ADMIN_KEY'],
    [['outbox', 'list'], '--state <state>'],
    [['outbox', 'replay'], '--id <id>'],
    [['outbox', 'cancel'], '--tracker <name>'],
    [['outbox', 'purge'], '--older-than-days <n>'],
  ])('nestjs-postback %s --help', async (command, mentions) => {
    const { code, out, err } = await cli([...command, '--help']);
    expect({ code, err }).toEqual({ code: 0, err: '' });
    expect(out).toMatch(new RegExp(`^usage: nestjs-postback ${command.join(' ')} `));
    expect(out).toContain(mentions);
  });

  it('answers a usage mistake on stderr with exit code 2, and does nothing', async () => {
    const { code, stdout, stderr } = await binary(['--frobnicate']);
    expect({ code, stdout }).toEqual({ code: 2, stdout: '' });
    expect(stderr).toMatch(/^error: unknown option '--frobnicate'/);
    expect(stderr).toContain('usage: nestjs-postback');

    const calls: unknown[] = [];
    const recording = (async (...args: unknown[]) => calls.push(args)) as unknown as typeof fetch;
    for (const args of [
      ['outbox', 'replay'],
      ['outbox', 'purge', '--older-than-days', 'soon'],
      ['outbox', 'list', '--state', 'lost'],
      ['build'],
      ['build', '--preset', 'tune', '--config', 'config/postback.yaml'],
      ['secret', 'extra'],
      ['presets', 'volume'],
    ]) {
      const result = await cli(args, recording);
      expect([args, result.code, result.out]).toEqual([args, 2, '']);
      expect(result.err).toMatch(/^error: /);
    }
    expect(calls).toEqual([]);
  });
});

describe('nestjs-postback presets', () => {
  it('lists every preset with the values, secret and currency each needs', async () => {
    const { code, out } = await cli(['presets']);
    expect(code).toBe(0);
    for (const name of POSTBACK_PRESETS.keys()) expect(out).toMatch(new RegExp(`^${name} — `, 'm'));
    const impact = await cli(['presets', 'impact']);
    expect(impact.out.split('\n')).toEqual([
      'impact — Impact (impact.com)',
      '  --value account_sid=…        your Account SID (the user name of signing too)',
      '  --value campaign_id=…        the program (campaign) ID',
      '  --value action_tracker_id=…  the action tracker ID of the conversion event',
      '  --value item=…               optional (default "order")',
      '  --username …                 Account SID',
      '  --token-env VAR              the variable holding the Auth Token (HTTP Basic)',
    ]);
    expect((await cli(['presets', 'everflow'])).out).toMatch(
      /--currency CODE +the offer's currency/,
    );
    expect((await cli(['presets', 'keitaro'])).out).toMatch(
      /--token-env VAR +the variable holding the security token, required/,
    );
  });
});
