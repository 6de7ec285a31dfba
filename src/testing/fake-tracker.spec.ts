import { randomBytes } from 'node:crypto';

import type { PostbackFields } from '../postback/postback-fields.js';
import {
  buildPostbackRequest,
  type PostbackRequest,
} from '../postback/postback-request.builder.js';
import { resolvePostbackOptions } from '../options/resolve-options.js';
import { FakeTracker } from './index.js';

const SECRET = `whsec_${randomBytes(24).toString('base64')}`;
const FIELDS: PostbackFields = {
  clickId: 'CLICK 1&x=y',
  eventType: 'purchase',
  conversionId: 'conv-1',
  occurredAt: Date.now(),
  orderId: 'ORDER-1',
  amount: '59.97',
  currency: 'EUR',
};

/** The postback the package renders for a tracker pointing at `tracker`, signed with `secret`. */
function signed(tracker: FakeTracker, method: 'GET' | 'POST', secret = SECRET): PostbackRequest {
  const options = resolvePostbackOptions({
    trackers: [
      {
        name: 'net',
        clickParams: ['cid'],
        postback:
          method === 'GET'
            ? { url: `${tracker.url()}?cid={click_id}&txid={order_id}` }
            : {
                url: tracker.url(),
                method: 'POST',
                format: 'json',
                body: { cid: '{click_id}', txid: '{order_id}' },
              },
        signing: { type: 'hmac', secret },
      },
    ],
  });
  return buildPostbackRequest(options.trackers.get('net')!, FIELDS, 'event-1', Date.now());
}

function send(request: PostbackRequest, url = request.url) {
  return fetch(url, { method: request.method, headers: request.headers, body: request.body });
}

describe('FakeTracker (nestjs-postback/testing)', () => {
  let tracker: FakeTracker;
  afterEach(() => tracker.stop());

  it.each(['GET', 'POST'] as const)(
    'verifies a signed %s postback and reads its fields',
    async (method) => {
      tracker = await new FakeTracker({ secret: SECRET }).start();
      const answer = await send(signed(tracker, method));
      expect(answer.status).toBe(200);
      const postback = await tracker.waitForPostback((p) => p.fields.txid === 'ORDER-1');
      expect(postback.signature).toBe('valid');
      expect(postback.fields.cid).toBe(FIELDS.clickId);
    },
  );

  it('refuses, with 401, a GET whose query was changed after signing', async () => {
    tracker = await new FakeTracker({ secret: SECRET }).start();
    const request = signed(tracker, 'GET');
    const answer = await send(request, request.url.replace('ORDER-1', 'ORDER-2'));
    expect(answer.status).toBe(401);
    expect(tracker.received[0]).toMatchObject({ signature: 'invalid', status: 401 });
  });

  it('refuses a POST signed with another secret, and keeps its script for the next', async () => {
    tracker = await new FakeTracker({ secret: SECRET }).start();
    tracker.respondWith({ status: 503 });
    const other = `whsec_${randomBytes(24).toString('base64')}`;
    expect((await send(signed(tracker, 'POST', other))).status).toBe(401);
    expect((await send(signed(tracker, 'POST'))).status).toBe(503);
    expect(tracker.received.map((p) => p.signature)).toEqual(['invalid', 'valid']);
  });

  it('accepts either secret during a rotation', async () => {
    const next = `whsec_${randomBytes(24).toString('base64')}`;
    tracker = await new FakeTracker({ secret: [next, SECRET] }).start();
    expect((await send(signed(tracker, 'GET'))).status).toBe(200);
  });

  it('checks nothing without a secret', async () => {
    tracker = await new FakeTracker().start();
    expect((await send(signed(tracker, 'GET'))).status).toBe(200);
    expect(tracker.received[0].signature).toBeUndefined();
  });

  it('says what arrived when the postback expected does not', async () => {
    tracker = await new FakeTracker().start();
    await send(signed(tracker, 'GET'));
    await expect(tracker.waitForPostback((p) => p.fields.txid === 'nope', 300)).rejects.toThrow(
      /no matching postback within 300 ms; received: GET \/postback\?cid=/,
    );
  });
});
