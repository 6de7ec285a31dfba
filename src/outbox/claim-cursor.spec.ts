import { ClaimCursor } from './claim-cursor.js';

describe('ClaimCursor', () => {
  it('starts at the bottom, then from the floor, sweeping once a second', () => {
    const cursor = new ClaimCursor(true);
    expect(cursor.range(10_000, [], false)).toEqual({ sweeping: true });
    cursor.noteFloor(9_000);
    expect(cursor.range(10_100, [], false)).toEqual({ sweeping: false, from: 9_000 });
    expect(cursor.sweepDue(10_999)).toBe(false);
    expect(cursor.sweepDue(11_000)).toBe(true);
    // A sweep also looks a little behind the floor, for rows committed late.
    expect(cursor.range(11_000, [], false)).toEqual({ sweeping: true, from: 8_000 });
  });

  it('starts from the bottom every five seconds, and when asked to sweep', () => {
    const cursor = new ClaimCursor(true);
    cursor.range(0, [], false);
    cursor.noteFloor(0);
    expect(cursor.range(4_999, [], false).from).toBe(-1_000);
    expect(cursor.range(5_000, [], false).from).toBeUndefined();
    expect(cursor.range(5_100, [], false).from).toBe(0);
    expect(cursor.range(5_200, [], true)).toEqual({ sweeping: true });
  });

  it('starts from the bottom once a tracker skipped before is claimed for again', () => {
    const cursor = new ClaimCursor(true);
    cursor.range(0, ['paused'], false);
    cursor.noteFloor(0);
    expect(cursor.range(100, ['paused'], false).from).toBe(0);
    expect(cursor.range(200, [], false).from).toBeUndefined();
    expect(cursor.range(300, [], false).from).toBe(0);
  });

  it('keeps no floor where the index is updated in place (SQLite)', () => {
    const cursor = new ClaimCursor(false);
    cursor.range(0, [], false);
    cursor.noteFloor(0);
    expect(cursor.range(100, [], false)).toEqual({ sweeping: false });
    expect(cursor.range(1_000, [], false)).toEqual({ sweeping: true });
  });
});
