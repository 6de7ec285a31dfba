import type { TrackerOptions } from '../interfaces/index.js';
import type { PostbackFields } from './postback-fields.js';
import { resolvePostbackOptions } from '../options/resolve-options.js';
import type { ResolvedTracker } from '../options/resolved-options.js';
import { buildPostbackRequest, REDACTED } from './postback-request.builder.js';
import { signContent, verifyPostbackSignature } from './postback-signature.js';

const DAY_MS = 24 * 60 * 60 * 1000;
const OCCURRED_AT = 1_700_000_000_789;
const SENT_AT = OCCURRED_AT + 5_000;
const EVENT_ID = '7d9c1b6e-3f0a-4c55-9a51-2d3e4f5a6b7c';

function trackerOf(
  options: Partial<TrackerOptions> & Pick<TrackerOptions, 'postback'>,
): ResolvedTracker {
  return resolvePostbackOptions({
    trackers: [{ name: 'net', clickParams: ['cid'], ...options }],
  }).trackers.get('net')!;
}

function fieldsOf(overrides: Partial<PostbackFields> = {}): PostbackFields {
  return {
    clickId: 'click-1',
    eventType: 'purchase',
    conversionId: 'conv-1',
    occurredAt: OCCURRED_AT,
    amount: '59.97',
    currency: 'EUR',
    payout: '4.50',
    payoutCurrency: 'EUR',
    orderId: 'order-1',
    ...overrides,
  };
}

describe('buildPostbackRequest', () => {
  describe('GET with token signing', () => {
    const SECRET = 's3cret';
    const tracker = trackerOf({
      postback: { url: 'https://tracker.example/pb?cid={click_id}&payout={payout}' },
      signing: { type: 'token', param: 'security_token', secret: SECRET },
    });
    const request = buildPostbackRequest(tracker, fieldsOf(), EVENT_ID, SENT_AT);

    it('sends the token as the last query parameter', () => {
      const url = new URL(request.url);
      expect(request.method).toBe('GET');
      expect(request.headers).toEqual({});
      expect(request.body).toBeUndefined();
      expect([...url.searchParams.keys()]).toEqual(['cid', 'payout', 'security_token']);
      expect(url.searchParams.get('security_token')).toBe(SECRET);
      expect(url.searchParams.get('cid')).toBe('click-1');
    });

    it('redacts the token in redactedUrl and never shows the secret', () => {
      const redacted = new URL(request.redactedUrl);
      expect(redacted.searchParams.get('security_token')).toBe(REDACTED);
      expect(redacted.searchParams.get('cid')).toBe('click-1');
      expect(request.redactedUrl).not.toContain(SECRET);
      expect(decodeURIComponent(request.redactedUrl)).not.toContain(SECRET);
    });

    it('encodes a token holding URL syntax', () => {
      const hostile = 'p&q=r#s t';
      const t = trackerOf({
        postback: { url: 'https://tracker.example/pb?cid={click_id}' },
        signing: { type: 'token', param: 'security_token', secret: hostile },
      });
      const url = new URL(buildPostbackRequest(t, fieldsOf(), EVENT_ID, SENT_AT).url);
      expect(url.searchParams.get('security_token')).toBe(hostile);
      expect([...url.searchParams.keys()]).toEqual(['cid', 'security_token']);
    });
  });

  describe('{token} in the path (Keitaro style)', () => {
    const SECRET = 'k3itaro-key';
    const tracker = trackerOf({
      postback: { url: 'https://keitaro.example/{token}/postback?subid={click_id}&status=sale' },
      signing: { type: 'token', secret: SECRET },
    });
    const request = buildPostbackRequest(tracker, fieldsOf(), EVENT_ID, SENT_AT);

    it('puts the token in the path', () => {
      const url = new URL(request.url);
      expect(url.pathname).toBe(`/${SECRET}/postback`);
      expect([...url.searchParams.keys()]).toEqual(['subid', 'status']);
    });

    it('redacts it from redactedUrl', () => {
      const url = new URL(request.redactedUrl);
      expect(decodeURIComponent(url.pathname)).toBe(`/${REDACTED}/postback`);
      expect(request.redactedUrl).not.toContain(SECRET);
    });
  });

  describe('POST bodies', () => {
    const body = {
      clickid: '{click_id}',
      sum: '{payout}',
      order: '{order_id}',
      customer: '{customer_id}',
    };

    it('encodes a json body exactly, leaving out absent single macros', () => {
      const tracker = trackerOf({
        postback: { url: 'https://tracker.example/pb', method: 'POST', format: 'json', body },
      });
      const request = buildPostbackRequest(
        tracker,
        fieldsOf({ clickId: 'a"b\\c&d' }),
        EVENT_ID,
        SENT_AT,
      );

      expect(request.method).toBe('POST');
      expect(request.url).toBe('https://tracker.example/pb');
      expect(request.headers).toEqual({
        'content-type': 'application/json',
        'idempotency-key': EVENT_ID,
      });
      expect(request.body).toBe('{"clickid":"a\\"b\\\\c&d","sum":"4.50","order":"order-1"}');
      expect(JSON.parse(request.body!)).toEqual({
        clickid: 'a"b\\c&d',
        sum: '4.50',
        order: 'order-1',
      });
    });

    it('encodes a form body exactly', () => {
      const tracker = trackerOf({
        postback: { url: 'https://tracker.example/pb', method: 'POST', format: 'form', body },
      });
      const request = buildPostbackRequest(
        tracker,
        fieldsOf({ clickId: 'a&b=c d' }),
        EVENT_ID,
        SENT_AT,
      );

      expect(request.headers).toEqual({
        'content-type': 'application/x-www-form-urlencoded',
        'idempotency-key': EVENT_ID,
      });
      expect(request.body).toBe('clickid=a%26b%3Dc+d&sum=4.50&order=order-1');
      expect(Object.fromEntries(new URLSearchParams(request.body))).toEqual({
        clickid: 'a&b=c d',
        sum: '4.50',
        order: 'order-1',
      });
    });

    it.each([
      ['EUR', '59.97', 5997],
      ['JPY', '1437', 1437],
      ['BHD', '1.005', 1005],
      ['EUR', '0.10', 10],
    ])('sends {amount_minor} of %s %s as the JSON number %d', (currency, amount, minor) => {
      const tracker = trackerOf({
        postback: {
          url: 'https://tracker.example/pb',
          method: 'POST',
          format: 'json',
          body: { amount: '{amount_minor}', label: '{amount_minor}' },
          jsonNumbers: ['amount'],
        },
      });
      const request = buildPostbackRequest(
        tracker,
        fieldsOf({ amount, currency }),
        EVENT_ID,
        SENT_AT,
      );
      // Typed where asked, a string elsewhere; never a float's rounding.
      expect(request.body).toBe(`{"amount":${minor},"label":"${minor}"}`);
    });

    it('refuses to send a non-number in a number field, naming the field', () => {
      const tracker = trackerOf({
        postback: {
          url: 'https://tracker.example/pb',
          method: 'POST',
          format: 'json',
          body: { amount: '{order_id}' },
          jsonNumbers: ['amount'],
        },
      });
      expect(() => buildPostbackRequest(tracker, fieldsOf(), EVENT_ID, SENT_AT)).toThrow(
        'body field amount must be a number, not "order-1"',
      );
    });

    it.each([
      [
        { url: 'https://tracker.example/pb', method: 'POST' as const, body: { a: '{amount}' } },
        'postback.jsonNumbers is only for a POST with format json',
      ],
      [
        { url: 'https://tracker.example/pb', method: 'POST' as const, format: 'json' as const },
        'postback.jsonNumbers: "a" is not a body field',
      ],
    ])('refuses jsonNumbers it cannot apply: %j', (postback, message) => {
      expect(() => trackerOf({ postback: { ...postback, jsonNumbers: ['a'] } })).toThrow(message);
    });

    it('puts a token into the body field named by signing.param', () => {
      const tracker = trackerOf({
        postback: { url: 'https://tracker.example/pb', method: 'POST', format: 'json', body },
        signing: { type: 'token', param: 'key', secret: 'body-token' },
      });
      const request = buildPostbackRequest(tracker, fieldsOf(), EVENT_ID, SENT_AT);
      expect(JSON.parse(request.body!).key).toBe('body-token');
      expect(request.redactedUrl).not.toContain('body-token');
    });
  });

  describe('POST with hmac signing', () => {
    const SECRET = 'whsec_' + Buffer.from('0123456789abcdef0123456789abcdef').toString('base64');
    const tracker = trackerOf({
      postback: {
        url: 'https://tracker.example/pb',
        method: 'POST',
        format: 'json',
        body: { click_id: '{click_id}', payout: '{payout}' },
      },
      signing: { type: 'hmac', secret: SECRET },
    });

    it('adds Standard Webhooks headers that verify over the exact body', () => {
      const request = buildPostbackRequest(tracker, fieldsOf(), EVENT_ID, SENT_AT);

      expect(request.headers['webhook-id']).toBe(EVENT_ID);
      expect(request.headers['webhook-timestamp']).toBe(String(Math.floor(SENT_AT / 1000)));
      expect(request.headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
      expect(
        verifyPostbackSignature({
          secret: SECRET,
          headers: request.headers,
          body: request.body,
          now: SENT_AT,
        }),
      ).toBe(true);
      expect(
        verifyPostbackSignature({
          secret: SECRET,
          headers: request.headers,
          body: request.body!.replace('4.50', '4.51'),
          now: SENT_AT,
        }),
      ).toBe(false);
    });

    it('signs a retry two days later with a fresh timestamp and the same event ID', () => {
      const first = buildPostbackRequest(tracker, fieldsOf(), EVENT_ID, SENT_AT);
      const retryAt = SENT_AT + 2 * DAY_MS;
      const retry = buildPostbackRequest(tracker, fieldsOf(), EVENT_ID, retryAt);

      expect(retry.headers['webhook-id']).toBe(first.headers['webhook-id']);
      expect(retry.headers['webhook-timestamp']).toBe(String(Math.floor(retryAt / 1000)));
      expect(retry.headers['webhook-signature']).not.toBe(first.headers['webhook-signature']);
      expect(retry.body).toBe(first.body);
      expect(
        verifyPostbackSignature({
          secret: SECRET,
          headers: retry.headers,
          body: retry.body,
          now: retryAt,
        }),
      ).toBe(true);
      // The first attempt's signature is far outside the receiver's window by then.
      expect(
        verifyPostbackSignature({
          secret: SECRET,
          headers: first.headers,
          body: first.body,
          now: retryAt,
        }),
      ).toBe(false);
    });

    it('sends JSON unless told otherwise, which every Standard Webhooks library parses', () => {
      const unformatted = trackerOf({
        postback: {
          url: 'https://tracker.example/pb',
          method: 'POST',
          body: { click_id: '{click_id}', payout: '{payout}' },
        },
        signing: { type: 'hmac', secret: SECRET },
      });
      const request = buildPostbackRequest(unformatted, fieldsOf(), EVENT_ID, SENT_AT);
      expect(request.headers['content-type']).toBe('application/json');
      expect(JSON.parse(request.body!)).toEqual({ click_id: 'click-1', payout: '4.50' });
    });

    it('keeps a form body when the template asks for one', () => {
      const form = trackerOf({
        postback: {
          url: 'https://tracker.example/pb',
          method: 'POST',
          format: 'form',
          body: { click_id: '{click_id}' },
        },
        signing: { type: 'hmac', secret: SECRET },
      });
      const request = buildPostbackRequest(form, fieldsOf(), EVENT_ID, SENT_AT);
      expect(request.headers['content-type']).toBe('application/x-www-form-urlencoded');
      expect(request.body).toBe('click_id=click-1');
    });

    it('never returns the secret', () => {
      const request = buildPostbackRequest(tracker, fieldsOf(), EVENT_ID, SENT_AT);
      expect(JSON.stringify(request)).not.toContain(SECRET);
    });
  });

  describe('GET with hmac signing', () => {
    const SECRET = 'whsec_' + Buffer.from('get-hmac-secret-0001-of-32-bytes').toString('base64');
    const tracker = trackerOf({
      postback: { url: 'https://tracker.example/pb?cid={click_id}' },
      signing: { type: 'hmac', secret: SECRET },
    });

    it('appends id, timestamp and signature, and redacts only the signature', () => {
      const request = buildPostbackRequest(tracker, fieldsOf(), EVENT_ID, SENT_AT);
      const url = new URL(request.url);
      const redacted = new URL(request.redactedUrl);

      expect([...url.searchParams.keys()]).toEqual(['cid', 'pb_id', 'pb_ts', 'pb_sig']);
      expect(url.searchParams.get('pb_id')).toBe(EVENT_ID);
      expect(url.searchParams.get('pb_ts')).toBe(String(Math.floor(SENT_AT / 1000)));
      expect(url.searchParams.get('pb_sig')).toMatch(/^v1,/);
      expect(redacted.searchParams.get('pb_sig')).toBe(REDACTED);
      expect(redacted.searchParams.get('pb_ts')).toBe(url.searchParams.get('pb_ts'));
      expect(verifyPostbackSignature({ secret: SECRET, url: request.url, now: SENT_AT })).toBe(
        true,
      );
    });
  });

  describe('GET with hmac signing over the query alone', () => {
    const SECRET = 'whsec_' + Buffer.from('get-hmac-query-secret-of-32-byte').toString('base64');
    // A path with reserved characters percent-encoded, as a proxy decoding the path mangles it.
    const template = 'https://tracker.example/in%2Fbox/a%2Bb?cid={click_id}';
    const queryOnly = trackerOf({
      postback: { url: template },
      signing: { type: 'hmac', secret: SECRET, covers: 'query' },
    });
    const whole = trackerOf({
      postback: { url: template },
      signing: { type: 'hmac', secret: SECRET },
    });
    /** The request target after nginx `proxy_pass http://app/;` decoded the path. */
    const behindProxy = (url: string) => {
      const { pathname, search } = new URL(url);
      return decodeURIComponent(pathname) + search;
    };

    it('signs the query string without the path, so a rewritten path still verifies', () => {
      const request = buildPostbackRequest(queryOnly, fieldsOf(), EVENT_ID, SENT_AT);
      const target = behindProxy(request.url);
      expect(target.startsWith('/in/box/a+b?cid=')).toBe(true);

      expect(
        verifyPostbackSignature({ secret: SECRET, url: target, covers: 'query', now: SENT_AT }),
      ).toBe(true);
      // Exactly these bytes: the query as sent, from after "?" to before "&pb_sig=".
      const { search } = new URL(request.url);
      const signed = search.slice(1, search.indexOf('&pb_sig='));
      const expected = signContent(SECRET, EVENT_ID, Math.floor(SENT_AT / 1000), signed);
      expect(new URL(request.url).searchParams.get('pb_sig')).toBe(expected);
      // Not the path-and-query signature: a receiver must say which one it checks.
      expect(verifyPostbackSignature({ secret: SECRET, url: request.url, now: SENT_AT })).toBe(
        false,
      );
    });

    it('still refuses a modified query value', () => {
      const request = buildPostbackRequest(queryOnly, fieldsOf(), EVENT_ID, SENT_AT);
      const tampered = request.url.replace('cid=', 'cid=x');
      expect(
        verifyPostbackSignature({ secret: SECRET, url: tampered, covers: 'query', now: SENT_AT }),
      ).toBe(false);
    });

    it('by default covers the path, which such a proxy breaks', () => {
      const request = buildPostbackRequest(whole, fieldsOf(), EVENT_ID, SENT_AT);
      expect(verifyPostbackSignature({ secret: SECRET, url: request.url, now: SENT_AT })).toBe(
        true,
      );
      expect(
        verifyPostbackSignature({ secret: SECRET, url: behindProxy(request.url), now: SENT_AT }),
      ).toBe(false);
    });

    it('refuses at start-up a macro in the path, which the query-only signature leaves open', () => {
      expect(() =>
        trackerOf({
          postback: { url: 'https://tracker.example/pb/{click_id}?x=1' },
          signing: { type: 'hmac', secret: SECRET, covers: 'query' },
        }),
      ).toThrow(/signing\.covers 'query' leaves the path unsigned, yet it holds \{click_id\}/);
    });
  });

  describe('macros', () => {
    it('fills static values', () => {
      const tracker = trackerOf({
        postback: { url: 'https://tracker.example/pb?cid={click_id}&offer={offer_id}&goal={goal}' },
        values: { offer_id: '42', goal: 'first deposit' },
      });
      const url = new URL(buildPostbackRequest(tracker, fieldsOf(), EVENT_ID, SENT_AT).url);
      expect(url.searchParams.get('offer')).toBe('42');
      expect(url.searchParams.get('goal')).toBe('first deposit');
    });

    it('fills {sub.x} from the captured sub-parameters and leaves out a missing one', () => {
      const tracker = trackerOf({
        subParams: ['aff_sub', 'sub2'],
        postback: { url: 'https://tracker.example/pb?cid={click_id}&a={sub.aff_sub}&b={sub.sub2}' },
      });
      const url = new URL(
        buildPostbackRequest(tracker, fieldsOf({ sub: { aff_sub: 'x&y' } }), EVENT_ID, SENT_AT).url,
      );
      expect(url.searchParams.get('a')).toBe('x&y');
      expect(url.searchParams.has('b')).toBe(false);
    });

    it('renders {timestamp} as occurredAt in unix seconds, not the send time', () => {
      const tracker = trackerOf({
        postback: {
          url: 'https://tracker.example/pb?cid={click_id}&ts={timestamp}&at={occurred_at}&ev={event_id}',
        },
      });
      const url = new URL(
        buildPostbackRequest(tracker, fieldsOf(), EVENT_ID, OCCURRED_AT + 3 * DAY_MS).url,
      );
      expect(url.searchParams.get('ts')).toBe('1700000000');
      expect(url.searchParams.get('at')).toBe(new Date(OCCURRED_AT).toISOString());
      expect(url.searchParams.get('ev')).toBe(EVENT_ID);
    });

    it('fills the money and reference macros from the fields', () => {
      const tracker = trackerOf({
        postback: {
          url:
            'https://tracker.example/pb?p={payout}&pc={payout_currency}&a={amount}&c={currency}' +
            '&o={order_id}&cu={customer_id}&e={event_type}&cv={conversion_id}',
        },
      });
      const url = new URL(
        buildPostbackRequest(
          tracker,
          fieldsOf({ payoutCurrency: 'USD', customerId: 'cust-9' }),
          EVENT_ID,
          SENT_AT,
        ).url,
      );
      expect(Object.fromEntries(url.searchParams)).toEqual({
        p: '4.50',
        pc: 'USD',
        a: '59.97',
        c: 'EUR',
        o: 'order-1',
        cu: 'cust-9',
        e: 'purchase',
        cv: 'conv-1',
      });
    });
  });
});
