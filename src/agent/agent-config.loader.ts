import { readFileSync } from 'node:fs';

import { parse } from 'yaml';

import type { PostbackModuleOptions, SigningOptions, TrackerOptions } from '../interfaces/index.js';

/**
 * A tracker as written in the agent's config file: like `TrackerOptions`, but secrets are
 * named by environment variable (`secretEnv`), never written in the file.
 */
type FileSigning =
  | (Omit<Extract<SigningOptions, { type: 'token' }>, 'secret'> & { secretEnv: string })
  | (Omit<Extract<SigningOptions, { type: 'hmac' }>, 'secret'> & { secretEnv: string | string[] })
  | (Omit<Extract<SigningOptions, { type: 'basic' }>, 'secret'> & { secretEnv: string })
  | (Omit<Extract<SigningOptions, { type: 'bearer' }>, 'secret'> & { secretEnv: string });

export interface AgentConfigFile {
  trackers: (Omit<TrackerOptions, 'signing'> & { signing?: FileSigning })[];
  outbox?: PostbackModuleOptions['outbox'];
}

/** The config file cannot be used; the message says which file and why. */
export class AgentConfigError extends Error {
  constructor(path: string, problems: string[]) {
    super(`Config file ${path}:\n  - ${problems.join('\n  - ')}`);
    this.name = 'AgentConfigError';
  }
}

/**
 * Reads the trackers from a YAML (or JSON) file and fills their secrets from the
 * environment. A missing variable is an error naming the variable, never its value.
 */
export function loadAgentConfig(
  path: string,
  environment: NodeJS.ProcessEnv,
): PostbackModuleOptions {
  let parsed: AgentConfigFile;
  try {
    parsed = parse(readFileSync(path, 'utf8')) as AgentConfigFile;
  } catch (error) {
    throw new AgentConfigError(path, [(error as Error).message]);
  }
  return toModuleOptions(parsed, environment, path);
}

export function toModuleOptions(
  file: AgentConfigFile,
  environment: NodeJS.ProcessEnv,
  path = 'config',
): PostbackModuleOptions {
  if (!file || !Array.isArray(file.trackers)) {
    throw new AgentConfigError(path, ['it must have a "trackers:" list']);
  }
  const problems: string[] = [];
  const trackers = file.trackers.map((tracker): TrackerOptions => {
    if (!tracker?.signing) return tracker as TrackerOptions;
    const { secretEnv, ...signing } = tracker.signing;
    const names = [secretEnv].flat();
    const secrets = names.map((name) => {
      const value = environment[name];
      if (!value) {
        problems.push(
          `tracker "${tracker.name}": environment variable ${name} (its signing secret) is not set`,
        );
      }
      return value ?? '';
    });
    const secret = signing.type === 'hmac' && names.length > 1 ? secrets : secrets[0];
    return { ...tracker, signing: { ...signing, secret } as SigningOptions };
  });
  if (problems.length > 0) throw new AgentConfigError(path, problems);
  return { trackers, outbox: file.outbox };
}
