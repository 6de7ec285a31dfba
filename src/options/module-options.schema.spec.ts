import type { PostbackModuleOptions, TrackerOptions } from '../interfaces/index.js';
import { PostbackConfigurationError } from '../errors/postback-configuration.error.js';
import { didYouMean } from '../common/did-you-mean.js';
import { resolvePostbackOptions } from './resolve-options.js';

function tracker(overrides: Record<string, unknown> = {}): TrackerOptions {
  return {
    name: 'net',
    clickParams: ['cid'],
    postback: { url: 'https://tracker.example/pb?cid={click_id}&payout={payout}' },
    ...overrides,
  } as TrackerOptions;
}

/** The problems these options are refused for (fails the test if they are accepted). */
function problemsOf(options: Record<string, unknown>): string[] {
  try {
    resolvePostbackOptions(options as unknown as PostbackModuleOptions);
  } catch (error) {
    expect(error).toBeInstanceOf(PostbackConfigurationError);
    return (error as PostbackConfigurationError).problems;
  }
  throw new Error('expected a PostbackConfigurationError');
}

const oneTracker = (overrides: Record<string, unknown>) =>
  problemsOf({ trackers: [tracker(overrides)] });

describe('the options schema', () => {
  describe('refuses unknown keys, with their path and the key meant', () => {
    it.each([
      [
        'a misspelled tracker option',
        { trackers: [tracker({ commision: { purchase: { percent: '5' } } })] },
        'trackers[0].commision: unknown option — did you mean "commission"?',
      ],
      [
        'a misspelled retry option of a tracker',
        { trackers: [tracker({ retry: { maxAttemps: 3 } })] },
        'trackers[0].retry.maxAttemps: unknown option — did you mean "maxAttempts"?',
      ],
      [
        'a misspelled outbox retry option',
        { trackers: [tracker()], outbox: { retry: { maxAttemps: 3 } } },
        'outbox.retry.maxAttemps: unknown option — did you mean "maxAttempts"?',
      ],
      [
        'a misspelled top-level option',
        { trackers: [tracker()], outbx: {} },
        'outbx: unknown option — did you mean "outbox"?',
      ],
      [
        'an option in the wrong case',
        { trackers: [tracker()], capture: { bufferMS: 10 } },
        'capture.bufferMS: unknown option — did you mean "bufferMs"?',
      ],
      [
        'a misspelled commission rule field',
        { trackers: [tracker({ commission: { purchase: { percnt: '5' } } })] },
        'trackers[0].commission.purchase must be { fixed, currency? } or { percent, min?, max? }; unknown "percnt": did you mean "percent"?',
      ],
      [
        'a misspelled postback field',
        {
          trackers: [
            tracker({ postback: { url: 'https://t.example/?c={click_id}', metod: 'POST' } }),
          ],
        },
        'trackers[0].postback.metod: unknown option — did you mean "method"?',
      ],
      [
        'a key like no known one',
        { trackers: [tracker()], outbox: { retry: { zzz: 1 } } },
        expect.stringMatching(
          /^outbox\.retry\.zzz: unknown option — known: maxAttempts, initialDelayMs, /,
        ),
      ],
    ])('%s', (_what, options, problem) => {
      expect(problemsOf(options)).toEqual([problem]);
    });

    it('names a misspelled signing key without echoing the secret', () => {
      const problems = oneTracker({
        signing: { type: 'hmac', secert: 'a-secret-of-24-characters' },
      });
      expect(problems).toContain(
        'trackers[0].signing.secert: unknown option — did you mean "secret"?',
      );
      expect(problems.join('\n')).not.toContain('a-secret-of-24-characters');
    });

    it("names the tracker's index in the list", () => {
      const problems = problemsOf({
        trackers: [tracker(), tracker({ name: 'two', clickParams: ['tid'], attributionWindow: 7 })],
      });
      expect(problems).toEqual([
        'trackers[1].attributionWindow: unknown option — did you mean "attributionWindowDays"?',
      ]);
    });
  });

  describe('checks event types against the built-in and the declared ones', () => {
    it.each([
      ['events', { events: ['purchse'] }, 'trackers[0].events[0]: unknown event type "purchse"'],
      [
        'commission',
        { commission: { purchse: { percent: '5' } } },
        'trackers[0].commission.purchse: unknown event type "purchse"',
      ],
      [
        'eventValues',
        {
          eventValues: { registraton: { status: 'lead' } },
          postback: { url: 'https://t.example/pb?cid={click_id}&s={status}' },
        },
        'trackers[0].eventValues.registraton: unknown event type "registraton"',
      ],
    ])('in %s', (_where, overrides, start) => {
      const problems = oneTracker(overrides);
      expect(problems).toHaveLength(1);
      expect(problems[0]).toMatch(
        new RegExp(`^${start.replace(/[[\].]/g, '\\$&')} — did you mean "`),
      );
      expect(problems[0]).toContain('declare your own types once, in customEventTypes');
    });

    it('accepts the built-in types, reversals and the commission wildcard', () => {
      expect(() =>
        resolvePostbackOptions({
          trackers: [
            tracker({
              events: ['purchase', 'registration', 'refund'],
              reversals: true,
              postback: { url: 'https://t.example/pb?cid={click_id}&et={event_type}&s={status}' },
              commission: { purchase: { percent: '5' }, '*': { fixed: '1.00' } },
              eventValues: { chargeback: { status: 'x' } },
            }),
          ],
        }),
      ).not.toThrow();
    });

    it('accepts a custom type once it is declared, and only then', () => {
      const custom = {
        events: ['lead'],
        commission: { lead: { fixed: '1.00' } },
        eventValues: { lead: { goal: 'lead' } },
        postback: { url: 'https://t.example/pb?cid={click_id}&g={goal}' },
      };
      const undeclared = oneTracker(custom);
      expect(undeclared).toHaveLength(3);
      expect(undeclared[0]).toMatch(
        /^trackers\[0\]\.events\[0\]: unknown event type "lead" — known: purchase, registration, refund, chargeback, cancellation/,
      );
      const resolved = resolvePostbackOptions({
        trackers: [tracker(custom)],
        customEventTypes: ['lead'],
      });
      expect(resolved.trackers.get('net')?.events).toEqual(new Set(['lead']));
      expect(resolved.customEventTypes).toEqual(['lead']);
    });

    it.each([
      ['Lead', /^customEventTypes\[0\] must be lowercase letters/],
      ['purchase', /^customEventTypes\[0\] is built in: list only your own types/],
    ])('refuses %p in customEventTypes', (type, message) => {
      expect(problemsOf({ trackers: [tracker()], customEventTypes: [type] })).toEqual([
        expect.stringMatching(message),
      ]);
    });
  });

  describe('values of the wrong kind', () => {
    it('accepts function-valued options as functions and RegExps where a pattern goes', () => {
      const resolved = resolvePostbackOptions({
        trackers: [tracker({ clickIdPattern: /^[a-z]+$/i, successBodyMatch: /ok/g })],
        capture: { visitorKey: () => 'v', customerId: () => 'c' },
        clock: () => 42,
      });
      expect(resolved.clock.now()).toBe(42);
      expect(resolved.capture.visitorKey({} as never)).toBe('v');
      expect(resolved.trackers.get('net')?.clickIdPattern?.flags).toBe('i');
    });

    it.each([
      [{ trackers: [tracker()], clock: 42 }, 'clock must be a function'],
      [
        { trackers: [tracker()], capture: { visitorKey: 'sid' } },
        'capture.visitorKey must be a function',
      ],
      [
        { trackers: [tracker({ concurrency: 1.5 })] },
        'trackers[0].concurrency must be a whole number',
      ],
      [{ trackers: [tracker({ events: 'purchase' })] }, 'trackers[0].events must be a list'],
      [
        {
          trackers: [
            tracker({ postback: { url: 'https://t.example/?c={click_id}', method: 'PUT' } }),
          ],
        },
        'trackers[0].postback.method must be "GET" or "POST"',
      ],
      [
        { trackers: [tracker({ signing: { type: 'jwt', secret: 'x' } })] },
        'trackers[0].signing.type must be "token", "hmac", "basic" or "bearer"',
      ],
      [
        { trackers: [tracker({ retry: { permanentFailureAttempts: 5 } })] },
        'trackers[0].retry.permanentFailureAttempts must be 1, 2 or 3',
      ],
      [
        { trackers: [tracker()], outbox: { timeoutMs: '15000' } },
        'outbox.timeoutMs must be a number',
      ],
      [
        { trackers: [tracker({ name: 'My Net' })] },
        'trackers[0].name must be 1-64 characters of a-z, 0-9, "_" or "-"',
      ],
      [
        { trackers: [tracker({ values: { offer_id: 7 } })] },
        'trackers[0].values.offer_id must be a string',
      ],
      [
        { trackers: [tracker({ values: { Offer: '7' } })] },
        'trackers[0].values.Offer: the name must be lowercase [a-z0-9_] and not a built-in macro',
      ],
      [
        { trackers: [tracker()], events: { purchse: 'x' } },
        'events.purchse: unknown option — did you mean "purchase"?',
      ],
      ['not options', 'options must be an object'],
    ])('refuses %j', (options, problem) => {
      expect(problemsOf(options as Record<string, unknown>)).toEqual([problem]);
    });
  });

  it('reports the unknown keys and the template problems of a tracker together', () => {
    const problems = oneTracker({
      commision: { purchase: { percent: '5' } },
      retry: { maxAttemps: 3 },
      commission: { purchase: { percent: '500' } },
      postback: { url: 'https://t.example/pb?cid={click_id}&p={payuot}' },
    });
    expect(problems).toEqual([
      'trackers[0].commission.purchase.percent cannot exceed 100',
      'trackers[0].retry.maxAttemps: unknown option — did you mean "maxAttempts"?',
      'trackers[0].commision: unknown option — did you mean "commission"?',
      expect.stringMatching(/^tracker "net": unknown macro \{payuot\}/),
    ]);
  });
});

describe('values that contradict each other', () => {
  it('refuses a route object with a misspelt key', () => {
    expect(
      problemsOf({ trackers: [tracker()], capture: { routes: [{ path: '/x', methd: 0 }] } }),
    ).toEqual(
      expect.arrayContaining(['capture.routes[0].methd: unknown option — did you mean "method"?']),
    );
  });

  it('accepts a { path, method } route', () => {
    expect(() =>
      resolvePostbackOptions({
        trackers: [tracker()],
        capture: { routes: ['/a', { path: '/x', method: 0 }] },
      } as unknown as PostbackModuleOptions),
    ).not.toThrow();
  });

  it('refuses a custom event type declared twice', () => {
    expect(problemsOf({ trackers: [tracker()], customEventTypes: ['trial', 'trial'] })).toEqual([
      'customEventTypes[1] lists "trial" twice: declare each type once',
    ]);
  });

  it.each([
    [
      { outbox: { retry: { initialDelayMs: 5000, maxDelayMs: 1000 } } },
      'outbox.retry.maxDelayMs (1000) must not be below initialDelayMs (5000): raise maxDelayMs or lower initialDelayMs',
    ],
    [
      { trackerRetry: { maxDelayMs: 10 } },
      'tracker "net": retry.maxDelayMs (10) must not be below initialDelayMs (10000): raise maxDelayMs or lower initialDelayMs',
    ],
    [
      { outbox: { circuitBreaker: { cooldownMs: 60_000, maxCooldownMs: 1000 } } },
      'outbox.circuitBreaker.maxCooldownMs (1000) must not be below cooldownMs (60000): raise maxCooldownMs or lower cooldownMs',
    ],
  ])('refuses a cap below the delay it caps: %j', (options, message) => {
    const { trackerRetry, ...rest } = options as Record<string, unknown>;
    expect(
      problemsOf({ trackers: [tracker(trackerRetry ? { retry: trackerRetry } : {})], ...rest }),
    ).toEqual([message]);
  });
});

describe('values no template uses', () => {
  const keitaro = (overrides: Record<string, unknown>) =>
    oneTracker({
      name: 'kt',
      preset: 'keitaro',
      clickParams: undefined,
      postback: undefined,
      signing: { type: 'token', secret: 'k' },
      values: { tracking_domain: 'kt.example.com' },
      ...overrides,
    });

  it('refuses a misspelt key of eventValues, naming its path and the macro meant', () => {
    expect(keitaro({ eventValues: { purchase: { stauts: 'approved' } } })).toEqual([
      'tracker "kt": eventValues.purchase.stauts: no macro of the postback or reversal template uses it — did you mean "status"?',
    ]);
  });

  it('refuses a misspelt key of values, a placeholder counting as used', () => {
    expect(keitaro({ values: { trackng_domain: 'kt.example.com' } })).toEqual([
      'tracker "kt": postback.url: {{tracking_domain}} is not filled in: set values.tracking_domain (your Keitaro domain)',
      'tracker "kt": values.trackng_domain: no macro of the postback or reversal template uses it — did you mean "tracking_domain"?',
    ]);
  });

  it('lists the usable values when nothing is close, and says so when there are none', () => {
    expect(
      oneTracker({
        postback: { url: 'https://t.example/pb?cid={click_id}&s={status}' },
        values: { status: 'ok', zzz: '1' },
      }),
    ).toEqual([
      'tracker "net": values.zzz: no macro of the postback or reversal template uses it — known: status',
    ]);
    expect(oneTracker({ eventValues: { purchase: { status: 'sale' } } })).toEqual([
      'tracker "net": eventValues.purchase.status: no macro of the postback or reversal template uses it — they take no values: remove it',
    ]);
  });

  it('accepts values used by the reversal URL or a POST body only', () => {
    expect(() =>
      resolvePostbackOptions({
        trackers: [
          tracker({
            postback: {
              url: 'https://t.example/pb',
              method: 'POST',
              body: { cid: '{click_id}', goal: '{goal}' },
            },
            reversalPostbackUrl: 'https://t.example/rv?cid={click_id}&s={state}',
            values: { goal: 'sale' },
            eventValues: { refund: { state: 'rejected' } },
          }),
        ],
      } as unknown as PostbackModuleOptions),
    ).not.toThrow();
  });
});

describe('didYouMean', () => {
  it.each([
    ['commision', 'commission'],
    ['maxAttemps', 'maxAttempts'],
    ['purchse', 'purchase'],
    ['evnets', 'events'],
    ['BUFFERMS', 'bufferMs'],
    ['xyz', undefined],
    ['url', undefined],
  ])('%s → %s', (word, meant) => {
    expect(
      didYouMean(word, ['commission', 'maxAttempts', 'purchase', 'events', 'bufferMs', 'body']),
    ).toBe(meant);
  });
});
