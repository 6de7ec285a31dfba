import { CoalescedMarks, PendingMarks } from './send-marks.js';

describe('CoalescedMarks', () => {
  it('writes the rows that start during a write together, in the next one', async () => {
    const writes: string[][] = [];
    const pending: (() => void)[] = [];
    const marks = new CoalescedMarks<string>(
      (rows) =>
        new Promise<void>((resolve) => {
          writes.push([...rows]);
          pending.push(resolve);
        }),
    );
    const first = marks.mark(['a']);
    const second = marks.mark(['b']);
    const third = marks.mark(['c', 'd']);
    expect(writes).toEqual([['a']]);
    pending.shift()!();
    await first;
    await new Promise((resolve) => setImmediate(resolve));
    expect(writes).toEqual([['a'], ['b', 'c', 'd']]);
    pending.shift()!();
    await Promise.all([second, third]);
    expect(writes).toHaveLength(2);
  });

  it('rejects only the rows of a write that failed', async () => {
    let calls = 0;
    const marks = new CoalescedMarks<string>(async () => {
      if (calls++ === 0) throw new Error('database gone');
    });
    const failed = marks.mark(['a']);
    const later = marks.mark(['b']);
    await expect(failed).rejects.toThrow('database gone');
    await expect(later).resolves.toBeUndefined();
  });
});

describe('PendingMarks', () => {
  const row = (id: string) => ({ id, claimToken: 't' });

  it('marks only the sends out for the delay, oldest first', () => {
    const marks = new PendingMarks<{ id: string; claimToken: string }>(50);
    marks.add([row('a'), row('b')], 1_000);
    marks.add([row('c')], 1_030);
    expect(marks.dueAt()).toBe(1_050);
    expect(marks.take(1_049, new Set())).toBeUndefined();
    expect(marks.take(1_050, new Set())).toEqual({ rows: [row('a'), row('b')], at: 1_000 });
    expect(marks.dueAt()).toBe(1_080);
    expect(marks.size).toBe(1);
  });

  it('never marks a send settled by the exchange it would ride, nor keeps it', () => {
    const marks = new PendingMarks<{ id: string; claimToken: string }>(50);
    marks.add([row('a'), row('b'), row('c')], 1_000);
    expect(marks.take(1_100, new Set(['b']))).toEqual({ rows: [row('a'), row('c')], at: 1_000 });
    marks.add([row('d'), row('e')], 1_200);
    // Young ones settled now are dropped too: they will never need a mark.
    expect(marks.take(1_210, new Set(['d']))).toBeUndefined();
    expect(marks.takeAll(new Set())).toEqual({ rows: [row('e')], at: 1_200 });
    expect(marks.size).toBe(0);
  });

  it('puts back marks whose write failed, ahead of the younger ones', () => {
    const marks = new PendingMarks<{ id: string; claimToken: string }>(50);
    marks.add([row('a')], 1_000);
    const taken = marks.take(1_060, new Set());
    marks.add([row('b')], 1_070);
    marks.putBack(taken!);
    expect(marks.dueAt()).toBe(1_050);
    expect(marks.take(1_100, new Set())?.rows).toEqual([row('a')]);
  });
});
