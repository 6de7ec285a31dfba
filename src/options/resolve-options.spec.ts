import type { PostbackModuleOptions, TrackerOptions } from '../interfaces/index.js';
import { PostbackConfigurationError } from '../errors/postback-configuration.error.js';
import { resolvePostbackOptions } from './resolve-options.js';
import { DEFAULT_RETRY } from './resolved-options.js';

const DAY_MS = 24 * 60 * 60 * 1000;

function tracker(overrides: Partial<TrackerOptions> = {}): TrackerOptions {
  return {
    name: 'net',
    clickParams: ['cid'],
    postback: { url: 'https://tracker.example/pb?cid={click_id}&payout={payout}' },
    ...overrides,
  };
}

/** The configuration error thrown for these options (fails the test if none is thrown). */
function errorOf(options: PostbackModuleOptions): PostbackConfigurationError {
  try {
    resolvePostbackOptions(options);
  } catch (error) {
    expect(error).toBeInstanceOf(PostbackConfigurationError);
    return error as PostbackConfigurationError;
  }
  throw new Error('expected a PostbackConfigurationError');
}

function problemsOf(...trackers: TrackerOptions[]): string[] {
  return errorOf({ trackers }).problems;
}

describe('resolvePostbackOptions', () => {
  describe('valid options', () => {
    it('resolves with defaults', () => {
      const resolved = resolvePostbackOptions({ trackers: [tracker()] });
      const net = resolved.trackers.get('net')!;

      expect(resolved.outbox).toMatchObject({
        enabled: true,
        flushIntervalMs: 5_000,
        batchSize: 500,
        concurrency: 8,
        timeoutMs: 15_000,
        leaseMs: 120_000,
        retry: DEFAULT_RETRY,
      });
      expect(net.attributionWindowMs).toBe(30 * DAY_MS);
      expect(net.method).toBe('GET');
      expect(net.format).toBe('form');
      expect(net.maxClickIdLength).toBe(255);
      expect(net.subParams).toEqual([]);
      expect(net.values).toEqual({});
      expect(net.events).toBeUndefined();
      expect(net.url.origin).toBe('https://tracker.example');
      expect(resolved.events).toEqual({
        purchase: 'postback.purchase',
        registration: 'postback.registration',
        custom: 'postback.event',
      });
      expect(resolved.capture.enabled).toBe(true);
      expect(resolved.capture.bufferMs).toBe(50);
    });

    it('keeps explicit settings', () => {
      const resolved = resolvePostbackOptions({
        trackers: [tracker({ attributionWindowDays: 7, events: ['purchase'] })],
        outbox: { flushIntervalMs: 1_000, concurrency: 2, retry: { maxAttempts: 3 } },
        events: false,
        clock: () => 42,
      });
      const net = resolved.trackers.get('net')!;
      expect(net.attributionWindowMs).toBe(7 * DAY_MS);
      expect(net.events).toEqual(new Set(['purchase']));
      expect(resolved.outbox.flushIntervalMs).toBe(1_000);
      expect(resolved.outbox.concurrency).toBe(2);
      expect(resolved.outbox.retry).toEqual({ ...DEFAULT_RETRY, maxAttempts: 3 });
      expect(resolved.events).toBe(false);
      expect(resolved.clock.now()).toBe(42);
    });

    it('resolves several trackers by name', () => {
      const resolved = resolvePostbackOptions({
        trackers: [
          tracker({ name: 'a', clickParams: ['aid'] }),
          tracker({ name: 'b', clickParams: ['bid'] }),
        ],
      });
      expect([...resolved.trackers.keys()]).toEqual(['a', 'b']);
    });
  });

  describe('problems', () => {
    it('requires at least one tracker', () => {
      expect(errorOf({ trackers: [] }).problems).toEqual([
        'trackers must list at least one tracker (the services and networks to post to)',
      ]);
      expect(errorOf({} as PostbackModuleOptions).problems).toEqual(['trackers is required']);
      expect(() => resolvePostbackOptions({} as PostbackModuleOptions)).toThrow(
        PostbackConfigurationError,
      );
    });

    it('names an unknown macro', () => {
      const problems = problemsOf(
        tracker({ postback: { url: 'https://tracker.example/pb?cid={click_id}&p={payuot}' } }),
      );
      expect(problems).toHaveLength(1);
      expect(problems[0]).toContain('tracker "net"');
      expect(problems[0]).toContain('unknown macro {payuot}');
    });

    it('refuses a {sub.x} macro whose parameter is not captured', () => {
      const problems = problemsOf(
        tracker({
          subParams: ['sub1'],
          postback: { url: 'https://tracker.example/pb?cid={click_id}&a={sub.aff}' },
        }),
      );
      expect(problems).toEqual([expect.stringContaining('add "aff" to subParams')]);
    });

    it('refuses {token} without token signing', () => {
      expect(
        problemsOf(
          tracker({ postback: { url: 'https://tracker.example/{token}/pb?cid={click_id}' } }),
        ),
      ).toEqual([expect.stringContaining('{token} needs signing of type "token"')]);
    });

    it('refuses a token that is never sent', () => {
      expect(problemsOf(tracker({ signing: { type: 'token', secret: 'abc' } }))).toEqual([
        expect.stringContaining('never sent'),
      ]);
    });

    it('refuses a macro in the host', () => {
      expect(
        problemsOf(tracker({ postback: { url: 'https://{sub.host}.example/pb?cid={click_id}' } })),
      ).toEqual([expect.stringMatching(/postback\.url: .*no macro in the host/)]);
    });

    it('refuses a macro name that is an Object.prototype member', () => {
      const problems = problemsOf(
        tracker({ postback: { url: 'https://tracker.example/pb?cid={click_id}&x={constructor}' } }),
      );
      expect(problems).toEqual([expect.stringContaining('unknown macro {constructor}')]);
    });

    it('refuses duplicate tracker names', () => {
      expect(problemsOf(tracker({ clickParams: ['a'] }), tracker({ clickParams: ['b'] }))).toEqual([
        'tracker "net": the name is used twice',
      ]);
    });

    it('refuses two trackers sharing a click parameter', () => {
      const problems = problemsOf(
        tracker({ name: 'one', clickParams: ['cid', 'x'] }),
        tracker({ name: 'two', clickParams: ['y', 'cid'] }),
      );
      expect(problems).toEqual([
        expect.stringMatching(/tracker "two": click parameter "cid" is also tracker "one"'s/),
      ]);
    });

    it.each([
      ['a negative percent', { percent: '-1' }, /^percent must be a non-negative decimal/],
      ['a percent above 100', { percent: '120' }, /^percent cannot exceed 100/],
      ['min above max', { percent: '5', min: '10', max: '2' }, /^min is greater than max/],
      ['a non-decimal max', { percent: '5', max: '1e3' }, /^max must be a non-negative decimal/],
      [
        'a bad currency',
        { fixed: '2.00', currency: 'eur' },
        /^currency must be an ISO 4217 currency code, not "eur"/,
      ],
      ['an unknown currency', { fixed: '2.00', currency: 'ZZZ' }, /ISO 4217/],
      [
        'too many decimals for the currency',
        { fixed: '2.5', currency: 'JPY' },
        /^fixed has more decimals than JPY/,
      ],
      ['a non-decimal fixed amount', { fixed: '2,00' }, /^fixed must be a non-negative decimal/],
      ['neither fixed nor percent', { amount: '2' }, /^must be \{ fixed, currency\? \} or/],
    ])('refuses a commission with %s', (_label, rule, message) => {
      const problems = problemsOf(
        tracker({
          commission: { purchase: rule as NonNullable<TrackerOptions['commission']>[string] },
        }),
      );
      expect(problems).toEqual([expect.stringMatching(/^trackers\[0\]\.commission\.purchase/)]);
      expect(problems[0].replace(/^trackers\[0\]\.commission\.purchase[. ]/, '')).toMatch(message);
    });

    it('refuses an HMAC secret that is not whsec_ + base64, saying how to make one, without echoing it', () => {
      const secret = 'a-long-plain-text-secret-of-32-chars';
      const error = errorOf({ trackers: [tracker({ signing: { type: 'hmac', secret } })] });
      expect(error.problems).toEqual([
        expect.stringMatching(
          /^trackers\[0\]\.signing\.secret must be "whsec_" followed by base64.*npx nestjs-postback secret/,
        ),
      ]);
      expect(error.message).not.toContain(secret);
    });

    it('refuses a short key among rotated secrets without echoing any', () => {
      const good = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
      const short = 'whsec_' + Buffer.from('sixteen-byte-key').toString('base64');
      const error = errorOf({
        trackers: [tracker({ signing: { type: 'hmac', secret: [good, short] } })],
      });
      expect(error.problems).toEqual([
        expect.stringContaining('holds 16 bytes of key, fewer than the 24'),
      ]);
      expect(error.message).not.toContain(short.slice(6));
      expect(error.message).not.toContain(good.slice(6));
    });

    it.each([
      ['hmac', { type: 'hmac' as const, secret: '' }],
      ['token', { type: 'token' as const, param: 'key', secret: '' }],
    ])('refuses an empty %s secret', (_label, signing) => {
      expect(problemsOf(tracker({ signing }))).toEqual([
        expect.stringContaining('signing.secret is empty'),
      ]);
    });

    it.each([
      [{ type: 'basic' as const, username: 'IRsid', secret: '' }, 'signing.secret is empty'],
      [{ type: 'bearer' as const, secret: '' }, 'signing.secret is empty'],
      [
        { type: 'basic' as const, username: 'IR:sid', secret: 'pw-123' },
        'signing.username must be a non-empty name without ":"',
      ],
      [
        { type: 'basic' as const, username: '', secret: 'pw-123' },
        'signing.username must be a non-empty name',
      ],
      [
        { type: 'bearer' as const, secret: 'key-123\r\nX-Injected: 1' },
        'signing.secret holds control characters',
      ],
    ])('refuses HTTP authentication it could not send: %j', (signing, message) => {
      const error = errorOf({ trackers: [tracker({ signing })] });
      expect(error.problems).toEqual([expect.stringContaining(message)]);
      if (signing.secret) expect(error.message).not.toContain(signing.secret);
    });

    it('refuses HTTP authentication over plain HTTP, but not to loopback', () => {
      const signing = { type: 'bearer' as const, secret: 'api-key-123' };
      const plain = (host: string) =>
        tracker({ signing, postback: { url: `http://${host}/track?cid={click_id}` } });
      // Names that merely start like a loopback address are anyone's hosts.
      for (const host of ['api.example.com', '127.attacker.example', '127.0.0.1.evil.example']) {
        expect(errorOf({ trackers: [plain(host)] }).problems).toEqual([
          expect.stringContaining('the bearer token would travel over plain HTTP'),
        ]);
      }
      for (const host of ['127.0.0.1:8080', 'localhost', '[::1]', '[::ffff:127.0.0.1]']) {
        expect(resolvePostbackOptions({ trackers: [plain(host)] }).trackers.size).toBe(1);
      }
    });

    it('refuses a capture.visitorKeySecret shorter than 16 characters or blank', () => {
      for (const visitorKeySecret of ['short', ' '.repeat(20)]) {
        expect(errorOf({ trackers: [tracker()], capture: { visitorKeySecret } }).problems).toEqual([
          expect.stringContaining('capture.visitorKeySecret must be at least 16'),
        ]);
      }
      const secret = 'v'.repeat(16);
      expect(
        resolvePostbackOptions({ trackers: [tracker()], capture: { visitorKeySecret: secret } })
          .capture.visitorKeySecret,
      ).toBe(secret);
    });

    it('keeps capture.bufferMs, 0 included (no buffering)', () => {
      for (const bufferMs of [0, 250]) {
        const resolved = resolvePostbackOptions({ trackers: [tracker()], capture: { bufferMs } });
        expect(resolved.capture.bufferMs).toBe(bufferMs);
      }
    });

    it.each([-1, Number.NaN, 60_001, '50'])('refuses capture.bufferMs %p', (bufferMs) => {
      const { problems } = errorOf({
        trackers: [tracker()],
        capture: { bufferMs: bufferMs as number },
      });
      expect(problems).toEqual([
        expect.stringMatching(/^capture\.bufferMs must be a number of milliseconds from 0/),
      ]);
    });

    it('refuses leaseMs not longer than timeoutMs', () => {
      const { problems } = errorOf({
        trackers: [tracker()],
        outbox: { leaseMs: 10_000, timeoutMs: 10_000 },
      });
      expect(problems).toEqual([
        expect.stringMatching(/^outbox\.leaseMs must be longer than timeoutMs/),
      ]);
    });

    it('lists every problem at once', () => {
      const error = errorOf({
        trackers: [
          tracker({ name: 'one', clickParams: ['cid'] }),
          tracker({ name: 'one', clickParams: ['other'] }),
          tracker({ name: 'two', clickParams: ['cid'] }),
          tracker({
            name: 'bad',
            clickParams: ['bad_id'],
            postback: {
              url: 'https://tracker.example/{token}/pb?cid={click_id}&p={payuot}&s={sub.aff}',
            },
            commission: { purchase: { percent: '-1' }, '*': { fixed: '1', currency: 'XYZ1' } },
            signing: { type: 'hmac', secret: 'sh0rt-S3CR3T' }, // not whsec_
          }),
          tracker({
            name: 'hosty',
            clickParams: ['h'],
            postback: { url: 'https://{sub.host}/pb' },
          }),
        ],
        outbox: { leaseMs: 1_000, timeoutMs: 2_000 },
      });

      const expected = [
        /tracker "one": the name is used twice/,
        /tracker "two": click parameter "cid" is also tracker "one"'s/,
        /trackers\[3\]\.signing\.secret must be "whsec_"/,
        /tracker "bad": \{token\} needs signing of type "token"/,
        /tracker "bad": unknown macro \{payuot\}/,
        /tracker "bad": \{sub\.aff\} is never filled/,
        /trackers\[3\]\.commission\.purchase\.percent must be/,
        /trackers\[3\]\.commission\.\*\.currency must be an ISO 4217 currency code, not "XYZ1"/,
        /tracker "hosty": postback\.url: .*no macro in the host/,
        /outbox\.leaseMs must be longer than timeoutMs/,
      ];
      expect(error.problems).toHaveLength(expected.length);
      for (const pattern of expected) {
        expect(error.problems).toContainEqual(expect.stringMatching(pattern));
        expect(error.message).toMatch(pattern);
      }
      expect(error.message).not.toContain('sh0rt-S3CR3T');
      expect(error.name).toBe('PostbackConfigurationError');
    });
  });
});
