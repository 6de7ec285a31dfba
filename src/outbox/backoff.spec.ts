import { DEFAULT_RETRY, type ResolvedRetry } from '../options/resolved-options.js';
import { backoffDelay, maxRetryAgeMs, retryAfterDelay, scheduleSpanMs } from './backoff.js';

const DAY_MS = 24 * 60 * 60 * 1000;
const middle = () => 0.5;

const RETRY: ResolvedRetry = {
  maxAttempts: 10,
  initialDelayMs: 1_000,
  multiplier: 2,
  maxDelayMs: 10_000,
  jitter: 0.25,
  retryAfterCapMs: 60_000,
  permanentFailureAttempts: 1,
};

describe('backoffDelay', () => {
  it('starts at initialDelayMs and grows by the multiplier', () => {
    expect([1, 2, 3, 4].map((attempts) => backoffDelay(attempts, RETRY, middle))).toEqual([
      1_000, 2_000, 4_000, 8_000,
    ]);
  });

  it('treats zero attempts like the first', () => {
    expect(backoffDelay(0, RETRY, middle)).toBe(1_000);
  });

  it('is capped at maxDelayMs', () => {
    expect(backoffDelay(5, RETRY, middle)).toBe(10_000);
    expect(backoffDelay(50, RETRY, middle)).toBe(10_000);
  });

  it('spreads by ±jitter around the delay', () => {
    expect(backoffDelay(3, RETRY, () => 0)).toBe(3_000); // 4000 × 0.75
    expect(backoffDelay(3, RETRY, () => 1)).toBe(5_000); // 4000 × 1.25
    expect(backoffDelay(3, RETRY, () => 0.5)).toBe(4_000);
  });

  it('applies jitter after the cap', () => {
    expect(backoffDelay(20, RETRY, () => 1)).toBe(12_500);
    expect(backoffDelay(20, RETRY, () => 0)).toBe(7_500);
  });

  it('stays within the jitter bounds for Math.random', () => {
    for (let i = 0; i < 200; i++) {
      const delay = backoffDelay(2, RETRY);
      expect(delay).toBeGreaterThanOrEqual(1_500);
      expect(delay).toBeLessThanOrEqual(2_500);
    }
  });

  it('spans roughly three days with the default schedule', () => {
    let total = 0;
    for (let attempts = 1; attempts < DEFAULT_RETRY.maxAttempts; attempts++) {
      total += backoffDelay(attempts, DEFAULT_RETRY, middle);
    }
    expect(total).toBeGreaterThan(2.5 * DAY_MS);
    expect(total).toBeLessThan(3.5 * DAY_MS);
    expect(backoffDelay(1, DEFAULT_RETRY, middle)).toBe(10_000);
    expect(backoffDelay(DEFAULT_RETRY.maxAttempts - 1, DEFAULT_RETRY, middle)).toBe(
      12 * 60 * 60 * 1000,
    );
  });
});

describe('maxRetryAgeMs', () => {
  it("is the schedule's span, every delay at its longest", () => {
    // Nine delays of at most 12.5 s (10 s and a quarter), each shorter than a Retry-After's cap.
    expect(scheduleSpanMs(RETRY)).toBe(9 * 60_000);
    const noCap = { ...RETRY, retryAfterCapMs: 1 };
    // 1 + 2 + 4 + 8 s, then 10 s five times, each with a quarter more.
    expect(scheduleSpanMs(noCap)).toBe(((1 + 2 + 4 + 8 + 5 * 10) * 1_000 * 5) / 4);
    // The default max age adds an hour for the attempts themselves and circuit pauses.
    expect(maxRetryAgeMs(RETRY)).toBe(scheduleSpanMs(RETRY) + 3_600_000);
    const days = maxRetryAgeMs(DEFAULT_RETRY) / DAY_MS;
    expect(days).toBeGreaterThan(3.6);
    expect(days).toBeLessThan(3.8);
  });

  it('is maxAgeMs when given', () => {
    expect(maxRetryAgeMs({ ...RETRY, maxAgeMs: 5_000 })).toBe(5_000);
  });
});

describe('retryAfterDelay', () => {
  const NOW = Date.UTC(2025, 0, 15, 12, 0, 0);
  const CAP = 60 * 60 * 1000;

  it('reads delta seconds', () => {
    expect(retryAfterDelay('120', NOW, CAP)).toBe(120_000);
    expect(retryAfterDelay(' 30 ', NOW, CAP)).toBe(30_000);
    expect(retryAfterDelay('0', NOW, CAP)).toBe(0);
  });

  it('reads an HTTP date', () => {
    const inFiveMinutes = new Date(NOW + 5 * 60_000).toUTCString();
    expect(retryAfterDelay(inFiveMinutes, NOW, CAP)).toBe(5 * 60_000);
  });

  it('reads a date in the past as no wait', () => {
    expect(retryAfterDelay(new Date(NOW - 60_000).toUTCString(), NOW, CAP)).toBe(0);
  });

  it('caps a long wait', () => {
    expect(retryAfterDelay(String(2 * 24 * 60 * 60), NOW, CAP)).toBe(CAP);
    expect(retryAfterDelay(new Date(NOW + 2 * DAY_MS).toUTCString(), NOW, CAP)).toBe(CAP);
  });

  it('is undefined for garbage or an absent header', () => {
    expect(retryAfterDelay('soon', NOW, CAP)).toBeUndefined();
    expect(retryAfterDelay('', NOW, CAP)).toBeUndefined();
    expect(retryAfterDelay(undefined, NOW, CAP)).toBeUndefined();
  });
});
