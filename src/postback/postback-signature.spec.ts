import type { PostbackFields } from './postback-fields.js';
import { resolvePostbackOptions } from '../options/resolve-options.js';
import type { ResolvedTracker } from '../options/resolved-options.js';
import { buildPostbackRequest } from './postback-request.builder.js';
import { signContent, verifyPostbackSignature } from './postback-signature.js';

// The Standard Webhooks reference test vector.
const VECTOR = {
  secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  id: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
  timestamp: 1614265330,
  body: '{"test": 2432232314}',
  signature: 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
};
const VECTOR_NOW = VECTOR.timestamp * 1000;

/** A `whsec_` secret over 32 bytes derived from `seed`, distinct per seed. */
function whsec(seed: string): string {
  return 'whsec_' + Buffer.from(seed.padEnd(32, '.')).toString('base64');
}

function vectorHeaders(signature = VECTOR.signature): Record<string, string> {
  return {
    'webhook-id': VECTOR.id,
    'webhook-timestamp': String(VECTOR.timestamp),
    'webhook-signature': signature,
  };
}

describe('signContent', () => {
  it('signs the Standard Webhooks test vector exactly', () => {
    expect(signContent(VECTOR.secret, VECTOR.id, VECTOR.timestamp, VECTOR.body)).toBe(
      VECTOR.signature,
    );
  });

  it('signs a Buffer payload like the same string', () => {
    expect(signContent(VECTOR.secret, VECTOR.id, VECTOR.timestamp, Buffer.from(VECTOR.body))).toBe(
      VECTOR.signature,
    );
  });

  it('produces one space-separated signature per secret during a rotation', () => {
    const other = whsec('another-secret');
    const both = signContent([VECTOR.secret, other], VECTOR.id, VECTOR.timestamp, VECTOR.body);

    expect(both.split(' ')).toEqual([
      VECTOR.signature,
      signContent(other, VECTOR.id, VECTOR.timestamp, VECTOR.body),
    ]);
    expect(both.split(' ')[1]).not.toBe(VECTOR.signature);
  });
});

describe('verifyPostbackSignature (POST headers)', () => {
  const verify = (overrides: Partial<Parameters<typeof verifyPostbackSignature>[0]> = {}) =>
    verifyPostbackSignature({
      secret: VECTOR.secret,
      headers: vectorHeaders(),
      body: VECTOR.body,
      now: VECTOR_NOW,
      ...overrides,
    });

  it('accepts the test vector', () => {
    expect(verify()).toBe(true);
  });

  it('reads headers case-insensitively and from arrays', () => {
    expect(
      verify({
        headers: {
          'Webhook-Id': VECTOR.id,
          'WEBHOOK-TIMESTAMP': [String(VECTOR.timestamp)],
          'webhook-signature': VECTOR.signature,
        },
      }),
    ).toBe(true);
  });

  it('refuses a tampered body', () => {
    expect(verify({ body: '{"test": 2432232315}' })).toBe(false);
    expect(verify({ body: '{"test":2432232314}' })).toBe(false);
  });

  it('refuses a wrong secret', () => {
    expect(verify({ secret: whsec('another key material') })).toBe(false);
  });

  it('refuses a tampered id', () => {
    expect(verify({ headers: { ...vectorHeaders(), 'webhook-id': 'msg_other' } })).toBe(false);
  });

  it('accepts a timestamp at the edge of the 300 s tolerance', () => {
    expect(verify({ now: VECTOR_NOW + 300_000 })).toBe(true);
    expect(verify({ now: VECTOR_NOW - 300_000 })).toBe(true);
  });

  it('refuses a timestamp that is too old', () => {
    expect(verify({ now: VECTOR_NOW + 301_000 })).toBe(false);
  });

  it('refuses a timestamp that is too new', () => {
    expect(verify({ now: VECTOR_NOW - 301_000 })).toBe(false);
  });

  it('honours a custom tolerance', () => {
    expect(verify({ now: VECTOR_NOW + 60_000, toleranceSeconds: 30 })).toBe(false);
    expect(verify({ now: VECTOR_NOW + 20_000, toleranceSeconds: 30 })).toBe(true);
  });

  it('refuses missing headers or body', () => {
    const { ['webhook-signature']: _dropped, ...withoutSignature } = vectorHeaders();
    expect(verify({ headers: withoutSignature })).toBe(false);
    expect(verify({ body: undefined })).toBe(false);
  });

  it('refuses a non-numeric timestamp', () => {
    expect(verify({ headers: { ...vectorHeaders(), 'webhook-timestamp': '1614265330.0' } })).toBe(
      false,
    );
  });

  describe('key rotation', () => {
    const oldSecret = whsec('old-secret');
    const newSecret = whsec('new-secret');
    const signatures = signContent(
      [oldSecret, newSecret],
      VECTOR.id,
      VECTOR.timestamp,
      VECTOR.body,
    );

    it.each([
      ['the old secret', oldSecret],
      ['the new secret', newSecret],
      ['both secrets', [newSecret, oldSecret]],
    ])('verifies for a receiver holding %s', (_label, secret) => {
      expect(verify({ secret, headers: vectorHeaders(signatures) })).toBe(true);
    });

    it('refuses a receiver holding neither', () => {
      expect(verify({ secret: whsec('unrelated'), headers: vectorHeaders(signatures) })).toBe(
        false,
      );
    });

    it('ignores signatures of another version', () => {
      const v2 = signatures.replace(/v1,/g, 'v2,');
      expect(verify({ secret: oldSecret, headers: vectorHeaders(v2) })).toBe(false);
    });
  });
});

describe('verifyPostbackSignature (GET url)', () => {
  const SECRET = whsec('get-signing-secret');
  const SENT_AT = 1_700_000_123_456;
  const fields: PostbackFields = {
    clickId: 'a&b=c#d e+f%20?x=/é😀',
    eventType: 'purchase',
    conversionId: 'conv-1',
    occurredAt: 1_700_000_000_000,
    payout: '4.50',
  };

  function getTracker(
    url: string,
    queryParams?: { id?: string; timestamp?: string; signature?: string },
  ): ResolvedTracker {
    return resolvePostbackOptions({
      trackers: [
        {
          name: 'net',
          clickParams: ['cid'],
          postback: { url },
          signing: { type: 'hmac', secret: SECRET, queryParams },
        },
      ],
    }).trackers.get('net')!;
  }

  /** What the receiver sees as `req.originalUrl`: the request target an HTTP client sends. */
  function requestTarget(url: string): string {
    const parsed = new URL(url);
    return parsed.pathname + parsed.search;
  }

  const tracker = getTracker('https://tracker.example/pb?cid={click_id}&payout={payout}');
  const request = buildPostbackRequest(tracker, fields, 'evt-123', SENT_AT);

  it('verifies a built GET postback by its whole URL', () => {
    expect(verifyPostbackSignature({ secret: SECRET, url: request.url, now: SENT_AT })).toBe(true);
  });

  it('verifies a built GET postback by its path and query', () => {
    expect(
      verifyPostbackSignature({ secret: SECRET, url: requestTarget(request.url), now: SENT_AT }),
    ).toBe(true);
  });

  it('refuses a modified query value', () => {
    const tampered = new URL(request.url);
    tampered.searchParams.set('payout', '450.00');
    expect(verifyPostbackSignature({ secret: SECRET, url: tampered.href, now: SENT_AT })).toBe(
      false,
    );
    const tamperedText = request.url.replace('payout=4.50', 'payout=4.51');
    expect(tamperedText).not.toBe(request.url);
    expect(verifyPostbackSignature({ secret: SECRET, url: tamperedText, now: SENT_AT })).toBe(
      false,
    );
  });

  it('refuses a parameter appended before the signature', () => {
    const injected = request.url.replace('&pb_sig=', '&payout=999&pb_sig=');
    expect(verifyPostbackSignature({ secret: SECRET, url: injected, now: SENT_AT })).toBe(false);
  });

  it('refuses a wrong secret and a stale timestamp', () => {
    expect(
      verifyPostbackSignature({ secret: whsec('another'), url: request.url, now: SENT_AT }),
    ).toBe(false);
    expect(
      verifyPostbackSignature({ secret: SECRET, url: request.url, now: SENT_AT + 10 * 60_000 }),
    ).toBe(false);
  });

  it('refuses a URL without a signature parameter', () => {
    const unsigned = request.url.slice(0, request.url.indexOf('&pb_sig='));
    expect(verifyPostbackSignature({ secret: SECRET, url: unsigned, now: SENT_AT })).toBe(false);
  });

  it('uses renamed query parameters on both sides', () => {
    const names = { id: 'sig_id', timestamp: 'sig_ts', signature: 'sig' };
    const renamed = buildPostbackRequest(
      getTracker('https://tracker.example/pb?cid={click_id}', names),
      fields,
      'evt-123',
      SENT_AT,
    );
    expect([...new URL(renamed.url).searchParams.keys()]).toEqual([
      'cid',
      'sig_id',
      'sig_ts',
      'sig',
    ]);
    expect(
      verifyPostbackSignature({
        secret: SECRET,
        url: renamed.url,
        queryParams: names,
        now: SENT_AT,
      }),
    ).toBe(true);
    expect(verifyPostbackSignature({ secret: SECRET, url: renamed.url, now: SENT_AT })).toBe(false);
  });

  // The receiver verifies over the request target it received. An HTTP client always sends
  // a path ("/" at least) and percent-encodes non-ASCII literals, so the signature must cover
  // the URL as normalised, or the receiver can never verify it.
  it('verifies at the receiver when the template URL has no path', () => {
    const pathless = buildPostbackRequest(
      getTracker('https://tracker.example?cid={click_id}'),
      fields,
      'evt-123',
      SENT_AT,
    );
    expect(requestTarget(pathless.url).startsWith('/?cid=')).toBe(true);
    expect(
      verifyPostbackSignature({ secret: SECRET, url: requestTarget(pathless.url), now: SENT_AT }),
    ).toBe(true);
  });

  it('verifies at the receiver when the template has a non-ASCII literal', () => {
    const literal = buildPostbackRequest(
      getTracker('https://tracker.example/pb/café?cid={click_id}'),
      fields,
      'evt-123',
      SENT_AT,
    );
    expect(
      verifyPostbackSignature({ secret: SECRET, url: requestTarget(literal.url), now: SENT_AT }),
    ).toBe(true);
  });
});
