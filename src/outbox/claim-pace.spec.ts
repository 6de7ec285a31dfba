import { ClaimPace } from './claim-pace.js';

describe('ClaimPace', () => {
  // Two rounds of 16 sends at least, batchSize 500 at most.
  const pace = () => new ClaimPace(32, 500);

  it('starts at two rounds of sends', () => {
    expect(pace().window(0)).toBe(32);
  });

  it('widens to about 200 ms of sends once a second at that pace is measured', () => {
    const p = pace();
    for (let t = 0; t < 1_000; t += 10) p.count(10, t); // 1 send per ms
    expect(p.window(1_000)).toBe(200);
  });

  it('never holds more than batchSize, however fast the sends', () => {
    const p = pace();
    for (let t = 0; t < 1_000; t += 10) p.count(100, t); // 10 per ms
    expect(p.window(1_000)).toBe(500);
  });

  it('follows a burst within 100 ms, but lets a trickle wait for the full sample', () => {
    const burst = pace();
    burst.count(200, 0);
    expect(burst.window(100)).toBe(400); // 2 per ms over 100 ms
    const trickle = pace();
    trickle.count(20, 0); // fewer than four rounds: not a clear burst
    expect(trickle.window(100)).toBe(32);
  });

  it('starts small again after an idle stretch', () => {
    const p = pace();
    for (let t = 0; t < 1_000; t += 10) p.count(10, t);
    expect(p.window(1_000)).toBe(200);
    expect(p.window(5_000)).toBe(32);
  });
});
