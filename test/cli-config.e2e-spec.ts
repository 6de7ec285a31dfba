import { writeFileSync } from 'node:fs';

import { runCli } from '../src/cli/main.js';
import { STAND_IN_SECRET } from '../src/options/parse-options.js';
import { tempDir } from './utils/sqlite.js';

/** Runs the CLI in-process: its exit code, all it printed, and its stdout and stderr apart. */
async function cli(args: string[], env: NodeJS.ProcessEnv = {}) {
  const lines: string[] = [];
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(args, {
    env,
    out: (text) => (lines.push(text), out.push(text)),
    err: (text) => (lines.push(text), err.push(text)),
    fetch,
  });
  return { code, output: lines.join('\n'), out: out.join('\n'), err: err.join('\n') };
}

describe('nestjs-postback validate and build', () => {
  let dir: ReturnType<typeof tempDir>;
  beforeEach(() => (dir = tempDir()));
  afterEach(() => dir.remove());

  const config = (yaml: string) => {
    const path = `${dir.path}/postback.yaml`;
    writeFileSync(path, yaml);
    return path;
  };

  it('accepts the shipped default configuration', async () => {
    const { code, output } = await cli(['validate', '--config', 'config/postback.yaml']);
    expect(output).toBe('config/postback.yaml: OK (1 tracker)');
    expect(code).toBe(0);
  });

  it('explains every problem of a broken configuration at once', async () => {
    const path = config(`
trackers:
  - name: a
    preset: volume
  - name: b
    preset: everflow
    values: { tracking_domain: trk.example.com }
    currency: USD
  - name: c
    clickParams: [c]
    postback: { url: "http://tracker.example/pb?c={click_id}&p={payuot}" }
    signing: { type: token, param: token, secretEnv: C_TOKEN }
`);
    const { code, output } = await cli(['validate', '--config', path]);
    expect(code).toBe(1);
    expect(output.split('\n')).toEqual([
      `${path}: 5 problems`,
      '  - tracker "c": environment variable C_TOKEN (its signing secret) is not set',
      expect.stringMatching(/^ {2}- tracker "a": unknown preset "volume"; known: voluum, /),
      '  - tracker "b": postback.url: {{nid}} is not filled in: set values.nid (your network ID)',
      expect.stringMatching(
        /^ {2}- tracker "c": unknown macro \{payuot\}; known: click_id, payout, /,
      ),
      '  - tracker "c": the token would travel over plain HTTP, readable by anyone on the way: use an https:// postback URL',
    ]);
  });

  it('refuses a misspelt key of eventValues, which would leave the preset status in place', async () => {
    const path = config(`
trackers:
  - name: kt
    preset: keitaro
    values: { tracking_domain: kt.example.com }
    eventValues: { purchase: { stauts: approved } }
    signing: { type: token, secretEnv: KT_TOKEN }
`);
    const { code, output } = await cli(['validate', '--config', path], { KT_TOKEN: 'k' });
    expect(output.split('\n')).toEqual([
      `${path}: 1 problem`,
      '  - tracker "kt": eventValues.purchase.stauts: no macro of the postback or reversal template uses it — did you mean "status"?',
    ]);
    expect(code).toBe(1);
  });

  it('prints the landing URL shape and the exact sample postback of a preset, token applied', async () => {
    const { code, output } = await cli(
      [
        'build',
        '--preset',
        'tune',
        '--value',
        'network_id=acme',
        '--value',
        'offer_id=7',
        '--token-env',
        'TUNE_TOKEN',
      ],
      { TUNE_TOKEN: 'tune-secret' },
    );
    expect(code).toBe(0);
    expect(output).toContain('https://your-shop.example/?transaction_id={transaction_id}');
    expect(output).toContain(
      'GET https://acme.go2cloud.org/aff_lsr?offer_id=7&transaction_id=TEST-CLICK-1&amount=59.97&adv_sub=TEST-ORDER-1&security_token=tune-secret',
    );
  });

  it("asks for the offer's currency of a network that has no currency parameter", async () => {
    const args = ['build', '--preset', 'everflow', '--value', 'tracking_domain=trk.example.com'];
    const without = await cli([...args, '--value', 'nid=42']);
    expect(without.code).toBe(1);
    expect(without.output).toContain("reads amounts in the offer's currency");
    const { code, output } = await cli([...args, '--value', 'nid=42', '--currency', 'USD']);
    expect(code).toBe(0);
    expect(output).toContain(
      '(order TEST-ORDER-1, customer TEST-CUSTOMER-1, 59.97 USD, click TEST-CLICK-1)',
    );
    expect(output).toContain(
      'GET https://trk.example.com/?nid=42&transaction_id=TEST-CLICK-1&amount=59.97&order_id=TEST-ORDER-1',
    );
  });

  it('builds from a tracker of a config file, with its commission', async () => {
    const path = config(`
trackers:
  - name: vol
    preset: voluum
    values: { tracking_domain: trk.example.com }
    commission: { purchase: { percent: "10" } }
`);
    const { code, output } = await cli(['build', '--config', path, '--tracker', 'vol']);
    expect(code).toBe(0);
    expect(output).toContain('?cid={clickid}');
    expect(output).toContain(
      'GET https://trk.example.com/postback?cid=TEST-CLICK-1&payout=6.00&txid=TEST-ORDER-1&currency=EUR&et=purchase',
    );
  });

  it("builds Impact's API call from a config file, its Auth Token from the environment", async () => {
    const path = config(`
trackers:
  - name: impact
    preset: impact
    values: { account_sid: IRabc123, campaign_id: "1000", action_tracker_id: "2000" }
    signing: { type: basic, username: IRabc123, secretEnv: IMPACT_AUTH_TOKEN }
`);
    // Before the Auth Token is exported: the call, showing where it goes.
    const missing = await cli(['build', '--config', path, '--tracker', 'impact']);
    expect(missing.code).toBe(0);
    expect(missing.output).toContain(
      'authorization: Basic <base64 of "IRabc123:$IMPACT_AUTH_TOKEN">',
    );
    expect(missing.output).toContain('IMPACT_AUTH_TOKEN is not set');
    expect(missing.output).not.toContain(STAND_IN_SECRET);
    expect(missing.output).not.toContain('do not share');
    const { code, output } = await cli(['build', '--config', path, '--tracker', 'impact'], {
      IMPACT_AUTH_TOKEN: 'impact-t0ken',
    });
    expect(code).toBe(0);
    expect(output).toContain('appends irclickid=… itself');
    expect(output).toContain('POST https://api.impact.com/Advertisers/IRabc123/Conversions');
    expect(output).toContain(
      `authorization: Basic ${Buffer.from('IRabc123:impact-t0ken').toString('base64')}`,
    );
    expect(output).toContain('ClickId=TEST-CLICK-1');
    expect(output).toMatch(/Not confirmed[\s\S]*ItemSubTotal1/);
  });

  it("applies a preset's secret as the HTTP authentication its network takes", async () => {
    const env = { DUB_API_KEY: 'dub_key_123', IMPACT_AUTH_TOKEN: 'impact-t0ken' };
    const dub = await cli(['build', '--preset', 'dub', '--token-env', 'DUB_API_KEY'], env);
    expect(dub.code).toBe(0);
    expect(dub.output).toContain('POST https://api.dub.co/track/sale');
    expect(dub.output).toContain('authorization: Bearer dub_key_123');
    const impactValues = ['account_sid=IRabc', 'campaign_id=1', 'action_tracker_id=2'];
    const impact = (extra: string[]) =>
      cli(
        [
          'build',
          '--preset',
          'impact',
          ...impactValues.flatMap((v) => ['--value', v]),
          '--token-env',
          'IMPACT_AUTH_TOKEN',
          ...extra,
        ],
        env,
      );
    const withUser = await impact(['--username', 'IRabc']);
    expect(withUser.code).toBe(0);
    expect(withUser.output).toContain(
      `authorization: Basic ${Buffer.from('IRabc:impact-t0ken').toString('base64')}`,
    );
    const withoutUser = await impact([]);
    expect(withoutUser.code).toBe(1);
    expect(withoutUser.output).toContain('signing.username must be a non-empty name');
  });

  it('reports every problem of a build at once, on stderr', async () => {
    const preset = await cli([
      'build',
      '--preset',
      'voluum',
      '--value',
      'tracking_domain',
      '--value',
      'x=1',
    ]);
    expect(preset.code).toBe(1);
    expect(preset.out).toBe('');
    expect(preset.err.split('\n')).toEqual([
      'cannot build the postback: 3 problems',
      '  - --value tracking_domain: give name=value',
      expect.stringMatching(/^ {2}- tracker "voluum": .*\{\{tracking_domain\}\} is not filled in/),
      expect.stringMatching(/^ {2}- tracker "voluum": values\.x: /),
    ]);

    const path = config(`
trackers:
  - name: a
    preset: volume
  - name: b
    preset: everflow
    values: { tracking_domain: trk.example.com }
`);
    const file = await cli(['build', '--config', path, '--tracker', 'b']);
    expect(file.code).toBe(1);
    expect(file.err.split('\n')).toEqual([
      `${path}: 3 problems`,
      expect.stringMatching(/^ {2}- tracker "a": unknown preset "volume"/),
      expect.stringMatching(/^ {2}- tracker "b": Everflow takes no currency parameter/),
      '  - tracker "b": postback.url: {{nid}} is not filled in: set values.nid (your network ID)',
    ]);
    // The file is named once, in the heading.
    expect(file.err.split(path)).toHaveLength(2);
  });

  it('prints the sample before the secret is exported, showing where it goes', async () => {
    const args = ['build', '--preset', 'keitaro', '--value', 'tracking_domain=kt.example.com'];
    const before = await cli([...args, '--token-env', 'KEITARO_KEY']);
    expect(before.code).toBe(0);
    expect(before.err).toBe('');
    expect(before.out).toContain(
      'GET https://kt.example.com/<$KEITARO_KEY>/postback?subid=TEST-CLICK-1&tid=TEST-ORDER-1&status=sale',
    );
    expect(before.out).toContain('KEITARO_KEY is not set');
    expect(before.out).not.toContain(STAND_IN_SECRET);
    const after = await cli([...args, '--token-env', 'KEITARO_KEY'], { KEITARO_KEY: 'kt-key' });
    expect(after.out).toContain('GET https://kt.example.com/kt-key/postback?subid=TEST-CLICK-1');
    expect(after.out).not.toContain('is not set');

    const path = config(`
trackers:
  - name: signed
    clickParams: [cid]
    postback: { url: "https://tracker.example/hook", method: POST, body: { c: "{click_id}" } }
    signing: { type: hmac, secretEnv: SIGNED_SECRET }
`);
    const hmac = await cli(['build', '--config', path]);
    expect(hmac.code).toBe(0);
    expect(hmac.out).toContain(
      'webhook-signature: v1,<the HMAC signature made with $SIGNED_SECRET>',
    );
    expect(hmac.out).toContain('SIGNED_SECRET is not set');
    // validate, which is for going live, still refuses the unset variable.
    expect((await cli(['validate', '--config', path])).code).toBe(1);
  });

  it('lists what the reference leaves unconfirmed for a preset', async () => {
    const { output } = await cli([
      'build',
      '--preset',
      'redtrack',
      '--value',
      'tracking_domain=t.example.com',
    ]);
    expect(output).toMatch(/Not confirmed[\s\S]*"sum"/);
  });
});

describe('the example configurations', () => {
  it.each([
    ['config/examples/single-tracker-keitaro.yaml', { KEITARO_POSTBACK_KEY: 'k' }],
    ['config/examples/several-networks.yaml', { EVERFLOW_TOKEN: 'e', TUNE_SECURITY_TOKEN: 't' }],
    ['config/examples/api-networks.yaml', { IMPACT_AUTH_TOKEN: 'i', DUB_API_KEY: 'd' }],
  ])('%s is valid', async (path, env) => {
    const lines: string[] = [];
    const code = await runCli(['validate', '--config', path], {
      env,
      out: (text) => lines.push(text),
      fetch,
    });
    expect(lines.join('\n')).toMatch(/: OK \(\d trackers?\)$/);
    expect(code).toBe(0);
  });
});
