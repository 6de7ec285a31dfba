import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { Webhook } from 'standardwebhooks';
import { Webhook as SvixWebhook } from 'svix';

import { resolvePostbackOptions } from '../src/options/resolve-options.js';
import { buildPostbackRequest } from '../src/postback/postback-request.builder.js';

// The built CLI, as `npx nestjs-postback` runs it (npm test builds first).
const CLI_MAIN = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));

async function secretFromCli(): Promise<string> {
  const { stdout, stderr } = await promisify(execFile)(process.execPath, [CLI_MAIN, 'secret']);
  expect(stderr).toBe('');
  return stdout;
}

describe('nestjs-postback secret', () => {
  it('prints only a new Standard Webhooks secret: whsec_ and 32 random bytes in base64', async () => {
    const [output, other] = await Promise.all([secretFromCli(), secretFromCli()]);
    expect(output).toMatch(/^whsec_[A-Za-z0-9+/]{43}=\n$/);
    const secret = output.trim();
    expect(Buffer.from(secret.slice('whsec_'.length), 'base64')).toHaveLength(32);
    expect(other.trim()).not.toBe(secret);
  });

  it('prints a secret the module signs with and both official libraries verify with', async () => {
    const secret = (await secretFromCli()).trim();
    const tracker = resolvePostbackOptions({
      trackers: [
        {
          name: 'net',
          clickParams: ['cid'],
          postback: {
            url: 'https://tracker.example/hook',
            method: 'POST',
            body: { c: '{click_id}' },
          },
          signing: { type: 'hmac', secret },
        },
      ],
    }).trackers.get('net')!;
    const fields = { clickId: 'click-1', eventType: 'purchase', conversionId: 'c', occurredAt: 0 };
    const sent = buildPostbackRequest(tracker, fields, 'evt-1', Date.now());

    expect(new Webhook(secret).verify(sent.body!, sent.headers)).toEqual({ c: 'click-1' });
    expect(new SvixWebhook(secret).verify(sent.body!, sent.headers)).toEqual({ c: 'click-1' });
  });
});
