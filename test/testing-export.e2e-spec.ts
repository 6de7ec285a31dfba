import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const ROOT = join(import.meta.dirname, '..');

/**
 * What a shop's test does with `nestjs-postback/testing`, run by Node itself from the built
 * package (a self-reference resolves through package.json `exports`, as an installed copy's
 * import would): a stand-in tracker that verifies signatures, fed a postback signed by the
 * official Standard Webhooks library, then one with its body changed.
 */
const CONSUMER = `
import { FakeTracker } from 'nestjs-postback/testing';
import { Webhook } from 'standardwebhooks';

const secret = 'whsec_' + Buffer.from('a shop test secret, 24 b').toString('base64');
const tracker = await new FakeTracker({ secret }).start();
const body = JSON.stringify({ cid: 'CLICK-1', txid: 'ORDER-1' });
const timestamp = new Date();
const headers = {
  'content-type': 'application/json',
  'webhook-id': 'evt-1',
  'webhook-timestamp': String(Math.floor(timestamp.getTime() / 1000)),
  'webhook-signature': new Webhook(secret).sign('evt-1', timestamp, body),
};
const statuses = [];
for (const sent of [body, body.replace('ORDER-1', 'ORDER-2')]) {
  statuses.push((await fetch(tracker.url(), { method: 'POST', headers, body: sent })).status);
}
const postback = await tracker.waitForPostback((p) => p.fields.txid === 'ORDER-1');
console.log(JSON.stringify({ statuses, signatures: tracker.received.map((p) => p.signature), cid: postback.fields.cid }));
await tracker.stop();
`;

describe('nestjs-postback/testing, imported as a consumer would', () => {
  it('resolves through package.json exports and verifies a signed postback', async () => {
    if (!existsSync(join(ROOT, 'dist/testing/index.js'))) {
      throw new Error('dist/testing is missing: run `npm run build` first (npm test does)');
    }
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--input-type=module', '--eval', CONSUMER],
      { cwd: ROOT, timeout: 20_000 },
    );
    expect(JSON.parse(stdout)).toEqual({
      statuses: [200, 401],
      signatures: ['valid', 'invalid'],
      cid: 'CLICK-1',
    });
  });
});
