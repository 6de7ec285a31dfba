import { nestsDeeperThan } from './json-depth.js';

/** `levels` objects (or arrays) nested in one another. */
function nested(levels: number, array = false): unknown {
  let value: unknown = 'leaf';
  for (let i = 0; i < levels; i++) value = array ? [value] : { a: value };
  return value;
}

describe('nestsDeeperThan', () => {
  it('counts scalars as 0 and a flat object or array as 1', () => {
    expect(nestsDeeperThan('x', 0)).toBe(false);
    expect(nestsDeeperThan(null, 0)).toBe(false);
    expect(nestsDeeperThan({ a: 1, b: 'x' }, 0)).toBe(true);
    expect(nestsDeeperThan({ a: 1, b: 'x' }, 1)).toBe(false);
    expect(nestsDeeperThan({ ids: ['a', 'b'] }, 1)).toBe(true);
    expect(nestsDeeperThan({ ids: ['a', 'b'] }, 2)).toBe(false);
  });

  it('accepts exactly the limit and refuses one level more, in objects and arrays', () => {
    expect(nestsDeeperThan(nested(32), 32)).toBe(false);
    expect(nestsDeeperThan(nested(33), 32)).toBe(true);
    expect(nestsDeeperThan(nested(32, true), 32)).toBe(false);
    expect(nestsDeeperThan(nested(33, true), 32)).toBe(true);
  });

  it('finds a deep branch beside shallow ones', () => {
    expect(nestsDeeperThan({ a: 1, b: { c: 2 }, d: [nested(40)] }, 32)).toBe(true);
  });

  it('walks 100,000 levels without overflowing the stack', () => {
    expect(nestsDeeperThan(nested(100_000), 32)).toBe(true);
    expect(nestsDeeperThan(nested(100_000), 200_000)).toBe(false);
  });
});
