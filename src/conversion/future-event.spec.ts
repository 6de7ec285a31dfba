import { InvalidInputError } from '../errors/invalid-input.error.js';
import { FUTURE_TOLERANCE_MS, refuseFutureEvent } from './future-event.js';

describe('refuseFutureEvent', () => {
  const now = Date.parse('2026-11-25T10:00:00Z');

  it('lets past events, "now" and the tolerance through', () => {
    expect(FUTURE_TOLERANCE_MS).toBe(300_000);
    for (const at of [undefined, 0, now - 86_400_000, now, now + FUTURE_TOLERANCE_MS]) {
      expect(() => refuseFutureEvent(at, now)).not.toThrow();
    }
  });

  it('refuses a millisecond past the tolerance, naming occurredAt and both times', () => {
    let error: unknown;
    try {
      refuseFutureEvent(now + FUTURE_TOLERANCE_MS + 1, now);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as InvalidInputError).fields).toEqual({
      occurredAt: [
        'occurredAt is 6 minutes in the future (2026-11-25T10:05:00.001Z, now 2026-11-25T10:00:00.000Z); at most 5 minutes ahead are accepted: check its date and time zone',
      ],
    });
  });

  it('says hours for a wrong day or time zone', () => {
    expect(() => refuseFutureEvent(now + 2 * 3_600_000, now)).toThrow(/2 hours in the future/);
  });
});
