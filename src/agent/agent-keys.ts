const KEYS = ['POSTBACK_API_KEY', 'POSTBACK_ADMIN_KEY'];

/** Whether the variable is one of the keys, set but empty or all whitespace. */
export function isBlankKey(environment: NodeJS.ProcessEnv, name: string): boolean {
  return KEYS.includes(name) && environment[name]?.trim() === '';
}

/**
 * What is wrong with the agent's bearer keys, one sentence each naming the variable and the
 * fix. A key that is empty or all whitespace would open the API to anyone (an unset variable
 * in a compose file reads as empty); leading or trailing whitespace (a newline from a secrets
 * file) can never be presented, as HTTP trims header values; and an admin key equal to the
 * API key would let every API caller replay, cancel and purge postbacks.
 */
export function keyProblems(environment: NodeJS.ProcessEnv): string[] {
  const problems: string[] = [];
  for (const name of KEYS) {
    const value = environment[name];
    if (value === undefined) continue;
    if (isBlankKey(environment, name)) {
      problems.push(
        `${name} is set but ${value === '' ? 'empty' : 'only whitespace'}: set a key of at least 16 characters (for example \`openssl rand -hex 32\`), or unset the variable`,
      );
    } else if (value.trim() !== value) {
      problems.push(
        `${name} starts or ends with whitespace, which no client can send: remove it (a trailing newline from a secrets file?)`,
      );
    }
  }
  const { POSTBACK_API_KEY: api, POSTBACK_ADMIN_KEY: admin } = environment;
  if (api && admin && api.trim() !== '' && api === admin) {
    problems.push(
      'POSTBACK_ADMIN_KEY is the same as POSTBACK_API_KEY, so every API caller could replay, cancel and purge postbacks: give the admin key its own value',
    );
  }
  return problems;
}
