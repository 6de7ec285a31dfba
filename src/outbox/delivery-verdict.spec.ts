import type { TrackerOptions } from '../interfaces/index.js';
import { resolvePostbackOptions } from '../options/resolve-options.js';
import { judgeAttempt, judgeExpiredLease } from './delivery-verdict.js';
import type { SendResult } from './postback-http.client.js';

const NOW = 1_700_000_000_000;

function setup(options: Partial<TrackerOptions> = {}) {
  const resolved = resolvePostbackOptions({
    trackers: [
      {
        name: 'net',
        clickParams: ['cid'],
        postback: { url: 'https://tracker.example/pb?cid={click_id}' },
        ...options,
      },
    ],
  });
  return { tracker: resolved.trackers.get('net')!, outbox: resolved.outbox };
}

function judge(result: Partial<SendResult>, attempt = 1, options: Partial<TrackerOptions> = {}) {
  const { tracker } = setup(options);
  return judgeAttempt({ durationMs: 12, ...result }, attempt, tracker, NOW);
}

function expectRetry(verdict: ReturnType<typeof judge>) {
  expect(verdict.outcome).toBe('retry');
  if (verdict.outcome !== 'retry') throw new Error('not a retry');
  expect(verdict.nextAttemptAt).toBeGreaterThan(NOW);
  return verdict;
}

describe('judgeAttempt', () => {
  it.each([200, 201, 204, 299])('delivers on HTTP %i', (status) => {
    expect(judge({ status })).toEqual({ outcome: 'delivered' });
  });

  describe('successBodyMatch', () => {
    it('is dead when a 2xx body lacks the marker', () => {
      const verdict = judge({ status: 200, body: 'success=false;' }, 1, {
        successBodyMatch: 'success=true',
      });
      expect(verdict.outcome).toBe('dead');
      expect(verdict).toMatchObject({ reason: expect.stringMatching(/HTTP 200.*body/) });
    });

    it('delivers when the body holds the marker', () => {
      expect(
        judge({ status: 200, body: 'success=true;' }, 1, { successBodyMatch: 'success=true' }),
      ).toEqual({ outcome: 'delivered' });
    });

    it('matches a RegExp marker', () => {
      const options = { successBodyMatch: /"status"\s*:\s*"ok"/ };
      expect(judge({ status: 200, body: '{"status": "ok"}' }, 1, options).outcome).toBe(
        'delivered',
      );
      expect(judge({ status: 200, body: '{"status": "error"}' }, 1, options).outcome).toBe('dead');
    });

    it('is dead when a 2xx has no body at all', () => {
      expect(judge({ status: 204 }, 1, { successBodyMatch: 'success=true' }).outcome).toBe('dead');
    });
  });

  it.each([500, 502, 503, 504, 429, 408, 425])('retries HTTP %i later', (status) => {
    const verdict = expectRetry(judge({ status }));
    expect(verdict.reason).toBe(`HTTP ${status}`);
  });

  it('retries a timeout or connection error, with the error as reason', () => {
    const verdict = expectRetry(
      judge({ error: 'timeout of 15000ms exceeded', durationMs: 15_000 }),
    );
    expect(verdict.reason).toBe('timeout of 15000ms exceeded');
  });

  it('retries on the backoff schedule, within the default jitter', () => {
    const first = expectRetry(judge({ status: 503 }, 1));
    expect(first.nextAttemptAt - NOW).toBeGreaterThanOrEqual(8_000);
    expect(first.nextAttemptAt - NOW).toBeLessThanOrEqual(12_000);

    const third = expectRetry(judge({ status: 503 }, 3));
    expect(third.nextAttemptAt - NOW).toBeGreaterThanOrEqual(72_000);
    expect(third.nextAttemptAt - NOW).toBeLessThanOrEqual(108_000);
  });

  it('waits as long as Retry-After asks', () => {
    const verdict = expectRetry(judge({ status: 429, retryAfter: '120' }));
    expect(verdict.nextAttemptAt).toBeGreaterThanOrEqual(NOW + 120_000);
    expect(verdict.nextAttemptAt).toBe(NOW + 120_000);
  });

  it('caps a Retry-After of two days at retryAfterCapMs', () => {
    const { outbox } = setup();
    const verdict = expectRetry(judge({ status: 503, retryAfter: String(2 * 24 * 60 * 60) }));
    expect(verdict.nextAttemptAt).toBe(NOW + outbox.retry.retryAfterCapMs);
  });

  it('never schedules a retry for the same instant, even on Retry-After: 0', () => {
    expect(expectRetry(judge({ status: 429, retryAfter: '0' })).nextAttemptAt).toBe(NOW + 1);
  });

  it.each([301, 302, 307, 308])('retries a %i redirect without following it', (status) => {
    const verdict = expectRetry(judge({ status, location: 'https://elsewhere.example/' }));
    expect(verdict.reason).toMatch(/redirect/);
    expect(verdict.reason).toContain('https://elsewhere.example/');
  });

  it.each([400, 401, 403, 404, 410, 422])('is dead on HTTP %i', (status) => {
    const verdict = judge({ status });
    expect(verdict.outcome).toBe('dead');
    expect(verdict).toMatchObject({ reason: expect.stringContaining(`HTTP ${status}`) });
  });

  it('gives up on a retry at the last attempt', () => {
    const { outbox } = setup();
    const last = outbox.retry.maxAttempts;
    const verdict = judge({ status: 503 }, last);
    expect(verdict.outcome).toBe('dead');
    expect(verdict).toMatchObject({
      reason: expect.stringMatching(new RegExp(`gave up after ${last} attempts.*HTTP 503`)),
    });
  });

  it('still retries at the attempt before the last', () => {
    const { outbox } = setup();
    expectRetry(judge({ status: 503 }, outbox.retry.maxAttempts - 1));
  });

  it('delivers a 2xx even at the last attempt', () => {
    const { outbox } = setup();
    expect(judge({ status: 200 }, outbox.retry.maxAttempts)).toEqual({ outcome: 'delivered' });
  });
});

describe('judgeAttempt with permanentFailureAttempts and per-tracker retry', () => {
  const trackerWith = (retry: Record<string, number>) =>
    resolvePostbackOptions({
      trackers: [
        { name: 'net', clickParams: ['c'], postback: { url: 'https://t.example/pb' }, retry },
      ],
    }).trackers.get('net')!;

  it('retries a refusal until the configured count, then dead-letters it', () => {
    const tracker = trackerWith({ permanentFailureAttempts: 2 });
    const first = judgeAttempt({ status: 404, durationMs: 1 }, 1, tracker, NOW);
    expect(first).toMatchObject({ outcome: 'retry', reason: expect.stringContaining('HTTP 404') });
    expect(judgeAttempt({ status: 404, durationMs: 1 }, 2, tracker, NOW)).toMatchObject({
      outcome: 'dead',
    });
  });

  it("uses the tracker's own schedule over the outbox default", () => {
    const tracker = trackerWith({ initialDelayMs: 7_000, jitter: 0, maxAttempts: 2 });
    expect(judgeAttempt({ status: 500, durationMs: 1 }, 1, tracker, NOW)).toEqual({
      outcome: 'retry',
      reason: 'HTTP 500',
      nextAttemptAt: NOW + 7_000,
    });
    expect(judgeAttempt({ status: 500, durationMs: 1 }, 2, tracker, NOW)).toMatchObject({
      outcome: 'dead',
    });
  });
});

describe('judgeAttempt past the max age', () => {
  const HOUR = 3_600_000;
  const tracker = (retry: Parameters<typeof resolvePostbackOptions>[0]['outbox'] = {}) =>
    resolvePostbackOptions({
      outbox: retry,
      trackers: [{ name: 'net', clickParams: ['c'], postback: { url: 'https://t.example/pb' } }],
    }).trackers.get('net')!;

  it("dead-letters a failure after the schedule's span, attempts left or not", () => {
    // Conversions accepted four days ago, the agent down since: the default schedule spans
    // about 3.7 days.
    const verdict = judgeAttempt(
      { status: 503, durationMs: 1 },
      2,
      tracker(),
      NOW,
      NOW - 96 * HOUR,
    );
    expect(verdict).toEqual({
      outcome: 'dead',
      reason: expect.stringMatching(
        /^past the max age: no retry later than 3\.\d days after the conversion \(retry\.maxAgeMs\); gave up after 2 attempts; last: HTTP 503$/,
      ),
    });
  });

  it('retries within it, and stops where the next attempt would fall past it', () => {
    const net = tracker({
      retry: { maxAgeMs: 10 * HOUR, initialDelayMs: HOUR, multiplier: 1, jitter: 0 },
    });
    expect(judgeAttempt({ status: 503, durationMs: 1 }, 3, net, NOW, NOW - 8 * HOUR)).toMatchObject(
      {
        outcome: 'retry',
        nextAttemptAt: NOW + HOUR,
      },
    );
    expect(
      judgeAttempt({ status: 503, durationMs: 1 }, 3, net, NOW, NOW - 9.5 * HOUR),
    ).toMatchObject({ outcome: 'dead', reason: expect.stringContaining('10 hours') });
  });

  it('still delivers a late success', () => {
    expect(
      judgeAttempt({ status: 200, durationMs: 1 }, 1, tracker(), NOW, NOW - 30 * 24 * HOUR),
    ).toEqual({
      outcome: 'delivered',
    });
  });

  it('refuses a max age that is not a positive number', () => {
    expect(() => tracker({ retry: { maxAgeMs: 0 } })).toThrow(
      /retry\.maxAgeMs must be a positive number/,
    );
  });
});

describe('judgeAttempt with a global success pattern', () => {
  it('matches every body, not every other one (a /g RegExp keeps lastIndex)', () => {
    const tracker = resolvePostbackOptions({
      trackers: [
        {
          name: 'net',
          clickParams: ['c'],
          postback: { url: 'https://t.example/pb' },
          successBodyMatch: /status=ok/gi,
        },
      ],
    }).trackers.get('net')!;
    const outcomes = [1, 2, 3, 4].map(
      () =>
        judgeAttempt({ status: 200, body: 'status=ok', durationMs: 1 }, 1, tracker, NOW).outcome,
    );
    expect(outcomes).toEqual(['delivered', 'delivered', 'delivered', 'delivered']);
  });
});

describe("judgeAttempt for Dub's lead not yet ingested", () => {
  // Dub's answer, as apps/web/lib/api/errors.ts writes a DubApiError("not_found").
  const notIngested = (code = 'not_found') =>
    JSON.stringify({
      error: {
        code,
        message: 'Lead event not found for externalId: cust-7 and leadEventName: undefined',
        doc_url: 'https://dub.co/docs/api-reference/errors#not-found',
      },
    });
  const dub = () =>
    resolvePostbackOptions({
      trackers: [{ name: 'dub', preset: 'dub', signing: { type: 'bearer', secret: 'dub_k' } }],
    }).trackers.get('dub')!;
  const MINUTE = 60_000;

  it('retries the 404 while its first such answer is less than an hour old', () => {
    const verdict = judgeAttempt(
      { status: 404, body: notIngested(), durationMs: 5 },
      3,
      dub(),
      NOW + 30 * MINUTE,
      NOW,
      NOW + 10 * MINUTE,
    );
    expect(verdict.outcome).toBe('retry');
    expect(verdict).toMatchObject({ reason: expect.stringMatching(/HTTP 404: Dub has no lead/) });
  });

  it('retries the first 404 of a sale sent hours after the conversion (a backlog)', () => {
    const verdict = judgeAttempt(
      { status: 404, body: notIngested(), durationMs: 5 },
      4,
      dub(),
      NOW + 3 * 60 * MINUTE,
      NOW,
    );
    expect(verdict.outcome).toBe('retry');
  });

  it('dead-letters it an hour after the first such answer, saying why', () => {
    const verdict = judgeAttempt(
      { status: 404, body: notIngested(), durationMs: 5 },
      6,
      dub(),
      NOW + 3 * 60 * MINUTE,
      NOW,
      NOW + 119 * MINUTE,
    );
    expect(verdict).toEqual({
      outcome: 'dead',
      reason: expect.stringMatching(
        /Dub has no lead for this customer yet.*still 60 minutes after the first such answer/,
      ),
    });
  });

  it('does not claim a retry it will not make once the attempts run out first', () => {
    const tracker = dub();
    const verdict = judgeAttempt(
      { status: 404, body: notIngested(), durationMs: 5 },
      tracker.retry.maxAttempts,
      tracker,
      NOW + 10 * MINUTE,
      NOW,
    );
    expect(verdict.outcome).toBe('dead');
    expect(verdict).toMatchObject({
      reason: expect.stringMatching(/^gave up after \d+ attempts; last: HTTP 404: Dub has no lead/),
    });
    expect(verdict).not.toMatchObject({ reason: expect.stringContaining('retried until') });
  });

  it('dead-letters any other 404 from Dub at once (a click or link Dub does not know)', () => {
    const body = JSON.stringify({
      error: { code: 'not_found', message: 'Click event not found for clickId: x' },
    });
    const verdict = judgeAttempt({ status: 404, body, durationMs: 5 }, 1, dub(), NOW, NOW);
    expect(verdict.outcome).toBe('dead');
  });

  it('does not read that text as "not yet" from a tracker without the preset', () => {
    const verdict = judge({ status: 404, body: notIngested() });
    expect(verdict.outcome).toBe('dead');
  });
});

describe('judgeExpiredLease', () => {
  it('counts a lease that expired while sending as an attempt, dead at the last one', () => {
    expect(judgeExpiredLease(0, 3)).toEqual({
      attempt: 1,
      outcome: 'retry',
      lastError: 'the worker sending it stopped before recording an outcome (its lease expired)',
    });
    expect(judgeExpiredLease(2, 3)).toEqual({
      attempt: 3,
      outcome: 'dead',
      lastError:
        'gave up after 3 attempts; last: the worker sending it stopped before recording an outcome (its lease expired)',
    });
  });
});
