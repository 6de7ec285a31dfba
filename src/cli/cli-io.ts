/** What a command reads and writes: the environment, stdout, stderr (tests pass their own). */
export interface CliIo {
  env: NodeJS.ProcessEnv;
  out: (text: string) => void;
  /** Problems and errors; without it they go to `out`. */
  err?: (text: string) => void;
  fetch: typeof fetch;
}

export type CommandIo = Required<Omit<CliIo, 'fetch'>> & Pick<Partial<CliIo>, 'fetch'>;

/** Exit codes: 0 done, 1 problems found (or refused by the agent), 2 a usage mistake. */
export const EXIT = { ok: 0, problems: 1, usage: 2 } as const;

/** A repeatable option's values, in order (`--id a --id b`). */
export const collect = (value: string, previous: string[] = []) => [...previous, value];
