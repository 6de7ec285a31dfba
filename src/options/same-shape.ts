/**
 * Compile-time agreement between the options schemas and the documented interfaces of
 * `src/interfaces`: the same values accepted both ways, and the same key paths at every depth.
 * Assignability alone lets an interface grow an optional key the schema would refuse at
 * start-up (`postback.driftProbe?`), so the key paths are compared too.
 */
export type Same<A, B> = [A] extends [B]
  ? [B] extends [A]
    ? [KeyPaths<A>] extends [KeyPaths<B>]
      ? [KeyPaths<B>] extends [KeyPaths<A>]
        ? true
        : false
      : false
    : false
  : false;

/** Fails to compile unless given `true`. */
export function assertSame<T extends true>(): T | void {}

// Values the options hold as they are: their own members are no option keys.
type Leaf = string | number | boolean | bigint | symbol | RegExp | Date | Function;

/**
 * Every key path of T (`postback.url`, `signing.queryParams.timestamp`, `retry.maxAttempts`),
 * distributed over unions so that each signing variant adds its own keys; `[]` stands for an
 * element of a list.
 */
type KeyPaths<T, Depth extends unknown[] = []> = Depth['length'] extends 8
  ? never
  : T extends Leaf | null | undefined
    ? never
    : T extends readonly (infer Item)[]
      ? `[]` | `[].${KeyPaths<Item, [...Depth, 1]>}`
      : {
          [K in keyof T & (string | number)]-?: `${K}` | `${K}.${KeyPaths<T[K], [...Depth, 1]>}`;
        }[keyof T & (string | number)];
