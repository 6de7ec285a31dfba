/**
 * Deepest nesting of objects and arrays the module takes in its input (an agent's body, an
 * event given to record()); its own inputs nest 2 levels at most.
 */
export const MAX_INPUT_DEPTH = 32;

/**
 * Whether a parsed JSON value nests deeper than `limit` (an object or array of scalars is 1
 * deep). Iterative, so that the check cannot overflow the stack it protects: class-transformer
 * recurses once per level and throws a RangeError some thousands of levels down.
 */
export function nestsDeeperThan(value: unknown, limit: number): boolean {
  const stack: unknown[] = [value];
  const depths: number[] = [0];
  while (stack.length > 0) {
    const current = stack.pop();
    const depth = depths.pop() as number;
    if (current === null || typeof current !== 'object') continue;
    if (depth + 1 > limit) return true;
    for (const child of Object.values(current)) {
      if (child !== null && typeof child === 'object') {
        stack.push(child);
        depths.push(depth + 1);
      }
    }
  }
  return false;
}
