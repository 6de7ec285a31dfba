import { CoalescedMarks } from './send-marks.js';

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
