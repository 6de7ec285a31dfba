import { healthOf, TrackerGate } from './tracker-gate.js';

const OPTIONS = { failureThreshold: 3, cooldownMs: 1_000, maxCooldownMs: 4_000 };

describe('TrackerGate', () => {
  const gateWith = (limit = 2) => new TrackerGate(() => limit, OPTIONS);

  it('gives each tracker at most its own number of slots', () => {
    const gate = gateWith(2);
    expect([gate.tryStart('slow', 0), gate.tryStart('slow', 0), gate.tryStart('slow', 0)]).toEqual([
      true,
      true,
      false,
    ]);
    expect(gate.tryStart('fast', 0)).toBe(true);
    expect(gate.paused(0)).toEqual([]); // busy is not paused
    gate.finish('slow', 'up', 0);
    expect(gate.tryStart('slow', 0)).toBe(true);
  });

  it('opens after consecutive failures, lets one probe through after the cooldown, closes on success', () => {
    const gate = gateWith(5);
    for (let i = 0; i < 3; i++) {
      expect(gate.tryStart('bad', 0)).toBe(true);
      gate.finish('bad', 'down', 0);
    }
    expect(gate.circuitOf('bad')).toBe('open');
    expect(gate.tryStart('bad', 999)).toBe(false);
    expect(gate.openUntil('bad', 999)).toBe(1_000);
    expect(gate.paused(999)).toEqual(['bad']);

    expect(gate.tryStart('bad', 1_000)).toBe(true); // the probe
    expect(gate.tryStart('bad', 1_000)).toBe(false); // only one while half-open
    gate.finish('bad', 'up', 1_001);
    expect(gate.circuitOf('bad')).toBe('closed');
    expect([gate.tryStart('bad', 1_002), gate.tryStart('bad', 1_002)]).toEqual([true, true]);
  });

  it('reopens on a failed probe with a doubled, capped cooldown', () => {
    const gate = gateWith(5);
    for (let i = 0; i < 3; i++) {
      gate.tryStart('bad', 0);
      gate.finish('bad', 'down', 0);
    }
    let now = 1_000;
    for (const expected of [2_000, 4_000, 4_000]) {
      expect(gate.tryStart('bad', now)).toBe(true);
      gate.finish('bad', 'down', now);
      expect(gate.openUntil('bad', now)).toBe(now + expected);
      now += expected;
    }
  });

  it('does not open on failures interleaved with answers', () => {
    const gate = gateWith(5);
    for (const health of ['down', 'down', 'up', 'down', 'down'] as const) {
      gate.tryStart('flaky', 0);
      gate.finish('flaky', health, 0);
    }
    expect(gate.circuitOf('flaky')).toBe('closed');
  });
});

describe('TrackerGate transitions', () => {
  it('tells each change of a circuit once, with the failures and the reason', () => {
    const told: unknown[] = [];
    const gate = new TrackerGate(
      () => 5,
      OPTIONS,
      (change) => told.push(change),
    );
    const fail = (now: number, reason = 'HTTP 503') => {
      expect(gate.tryStart('bad', now)).toBe(true);
      gate.finish('bad', 'down', now, reason);
    };
    fail(0);
    fail(0);
    expect(told).toEqual([]);
    // Two sends in flight when the third failure opens it: the late failure is not news.
    expect(gate.tryStart('bad', 0)).toBe(true);
    fail(0, 'timed out after 15000 ms');
    gate.finish('bad', 'down', 10, 'HTTP 502');
    expect(told).toEqual([
      {
        tracker: 'bad',
        to: 'open',
        failures: 3,
        reason: 'timed out after 15000 ms',
        openUntil: 1_000,
        probeFailed: false,
      },
    ]);
    expect(gate.pausedTrackers(500)).toEqual([
      {
        tracker: 'bad',
        circuit: 'open',
        nextProbeAt: 1_000,
        failures: 4,
        reason: 'timed out after 15000 ms',
      },
    ]);

    fail(1_000, 'HTTP 500'); // the probe
    expect(told.slice(1)).toEqual([
      { tracker: 'bad', to: 'half_open', failures: 4, reason: 'timed out after 15000 ms' },
      {
        tracker: 'bad',
        to: 'open',
        failures: 5,
        reason: 'HTTP 500',
        openUntil: 3_000,
        probeFailed: true,
      },
    ]);
    expect(gate.tryStart('bad', 3_000)).toBe(true);
    gate.finish('bad', 'up', 3_010);
    expect(gate.tryStart('bad', 3_020)).toBe(true);
    gate.finish('bad', 'up', 3_030);
    expect(told.slice(3)).toEqual([
      { tracker: 'bad', to: 'half_open', failures: 5, reason: 'HTTP 500' },
      { tracker: 'bad', to: 'closed', failures: 0, reason: undefined },
    ]);
    expect(gate.pausedTrackers(3_030)).toEqual([]);
  });
});

describe('healthOf', () => {
  it.each([
    [200, 'up'],
    [400, 'up'], // the tracker answered: the request is at fault, not the tracker
    [404, 'up'],
    [302, 'up'],
    [408, 'down'],
    [425, 'down'],
    [429, 'down'],
    [500, 'down'],
    [503, 'down'],
    [undefined, 'down'],
  ])('%s is %s', (status, health) => {
    expect(healthOf(status)).toBe(health);
  });
});
