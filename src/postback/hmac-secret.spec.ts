import { Webhook } from 'standardwebhooks';

import { generateHmacSecret, hmacKey, hmacSecretProblem } from './hmac-secret.js';
import { signContent, verifyPostbackSignature } from './postback-signature.js';

const KEY_24 = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'; // the Standard Webhooks test vector's

describe('HMAC secrets', () => {
  it('accepts a whsec_ secret of 24 bytes or more and reads its base64', () => {
    expect(hmacSecretProblem(KEY_24)).toBeUndefined();
    expect(hmacKey(KEY_24)).toHaveLength(24);
    expect(hmacSecretProblem(generateHmacSecret())).toBeUndefined();
  });

  // Each of these signed postbacks that the official libraries reject ("No matching signature
  // found") or cannot even read: they base64-decode every secret.
  it.each([
    ['a plain text secret', 'a-long-plain-text-secret-of-some-length'],
    ['a non-ASCII plain secret', 'ünïcødé-sécret-of-some-length-ok'],
    ['whsec_ with text that is not base64', 'whsec_not base64 at all, this one!'],
    ['whsec_ with URL-safe base64', 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLa-_'],
    ['whsec_ with missing padding', 'whsec_' + Buffer.alloc(25, 7).toString('base64').slice(0, -2)],
    ['whsec_ with a key of 23 bytes', 'whsec_' + Buffer.alloc(23, 7).toString('base64')],
  ])('refuses %s, saying how to make one, without repeating it', (_label, secret) => {
    const problem = hmacSecretProblem(secret);
    expect(problem).toContain('nestjs-postback secret');
    expect(problem).toContain('openssl rand -base64 32');
    expect(problem).not.toContain(secret.slice(6));
    expect(() => hmacKey(secret)).toThrow(TypeError);
    expect(() => signContent(secret, 'id', 1, 'body')).toThrow(TypeError);
    expect(() =>
      verifyPostbackSignature({
        secret,
        headers: { 'webhook-id': 'id', 'webhook-timestamp': '1', 'webhook-signature': 'v1,x' },
        body: 'body',
        now: 1000,
      }),
    ).toThrow(/not valid base64|must be "whsec_"|fewer than the 24/);
  });

  it('generates a fresh 32-byte secret each time that the official library verifies with', () => {
    const secret = generateHmacSecret();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(hmacKey(secret)).toHaveLength(32);
    expect(generateHmacSecret()).not.toBe(secret);

    const now = Math.floor(Date.now() / 1000);
    const body = '{"event":"purchase"}';
    const headers = {
      'webhook-id': 'evt-1',
      'webhook-timestamp': String(now),
      'webhook-signature': signContent(secret, 'evt-1', now, body),
    };
    expect(new Webhook(secret).verify(body, headers)).toEqual({ event: 'purchase' });
  });
});
