import { WakeSignal } from './wake-signal.js';

/** Whether `promise` has settled once the callbacks ready now have run. */
async function settledSoon(promise: Promise<void>): Promise<boolean> {
  let settled = false;
  void promise.then(() => (settled = true));
  await new Promise((resolve) => setImmediate(resolve));
  await new Promise((resolve) => setImmediate(resolve));
  return settled;
}

describe('WakeSignal', () => {
  it('sleeps until woken when given no time', async () => {
    const signal = new WakeSignal();
    const asleep = signal.sleep();
    expect(await settledSoon(asleep)).toBe(false);
    signal.wake();
    await expect(asleep).resolves.toBeUndefined();
  });

  it('wakes by itself after the time it was given', async () => {
    const signal = new WakeSignal();
    const startedAt = Date.now();
    await signal.sleep(20);
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(15);
  });

  it('ends the next sleep at once for a wake-up that came while nobody slept', async () => {
    const signal = new WakeSignal();
    signal.wake();
    expect(await settledSoon(signal.sleep())).toBe(true);
    // Spent: the sleep after it waits again.
    expect(await settledSoon(signal.sleep())).toBe(false);
  });

  it('wakes the sleeper after the callbacks ready now, once for a burst of wake-ups', async () => {
    const signal = new WakeSignal();
    let woken = false;
    const asleep = signal.sleep().then(() => (woken = true));
    signal.wake();
    signal.wake();
    signal.wake();
    await Promise.resolve();
    expect(woken).toBe(false);
    await asleep;
    expect(woken).toBe(true);
    // The burst was one wake-up: nothing is left over for the next sleep.
    expect(await settledSoon(signal.sleep())).toBe(false);
  });

  it('keeps a wake-up that comes between a timed-out sleep and the next', async () => {
    const signal = new WakeSignal();
    await signal.sleep(1);
    signal.wake();
    expect(await settledSoon(signal.sleep())).toBe(true);
  });
});
