import { readFileSync } from 'node:fs';

import { parse } from 'yaml';
import { z } from 'zod';

import type { PostbackModuleOptions, SigningOptions, TrackerOptions } from '../interfaces/index.js';
import { didYouMean } from '../common/did-you-mean.js';
import { describeOptionIssues, optionErrorMap } from '../options/option-issues.js';
import { STAND_IN_SECRET } from '../options/parse-options.js';
import { postbackOptionProblems } from '../options/resolve-options.js';
import { strictOptions } from '../options/strict-options.js';
import { PostbackConfigurationError } from '../errors/postback-configuration.error.js';
import { hmacSecretProblem } from '../postback/hmac-secret.js';

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
  customEventTypes?: PostbackModuleOptions['customEventTypes'];
}

/**
 * What the file adds to the module's options: its top-level keys, and `secretEnv` in place of
 * `secret`. Everything inside is checked by the module's own schema, with the same paths.
 */
const fileSchema = strictOptions({
  trackers: z.unknown().optional(),
  outbox: z.unknown().optional(),
  customEventTypes: z.unknown().optional(),
});
const secretEnvSchema = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)], {
  error: 'must name the environment variable holding the secret (a list for an HMAC rotation)',
});

/** The module options a config file describes, and the problems of the file itself. */
export interface AgentConfig {
  /** Undefined when the file is not a mapping of options at all. */
  options?: PostbackModuleOptions;
  problems: string[];
}

/**
 * Turns a parsed config file into the module's options, filling secrets from the environment.
 * A missing variable is a problem naming the variable, never a value; a stand-in takes its
 * place so that every other check can still run (the options are unusable while problems
 * remain).
 */
export function readAgentConfig(file: unknown, environment: NodeJS.ProcessEnv): AgentConfig {
  const parsed = fileSchema.safeParse(file ?? {}, { error: optionErrorMap });
  const problems = parsed.success ? [] : describeOptionIssues(parsed.error.issues);
  if (typeof file !== 'object' || Array.isArray(file)) return { problems };
  const { trackers, outbox, customEventTypes } = (file ?? {}) as Record<string, unknown>;
  const options = {
    trackers: Array.isArray(trackers)
      ? trackers.map((tracker, i) => withSecret(tracker, i, environment, problems))
      : trackers,
    // Keys the file leaves out stay out, rather than stand as `undefined`.
    ...(outbox !== undefined && { outbox }),
    ...(customEventTypes !== undefined && { customEventTypes }),
  } as PostbackModuleOptions;
  return { options, problems };
}

function withSecret(
  tracker: unknown,
  index: number,
  environment: NodeJS.ProcessEnv,
  problems: string[],
): unknown {
  const signing = (tracker as { signing?: unknown } | null)?.signing;
  if (typeof signing !== 'object' || signing === null) return tracker;
  const { secretEnv, secret, ...others } = signing as Record<string, unknown>;
  const at = `trackers[${index}].signing`;
  // The module's schema would point a mistyped `secretENV` at `secret`, a key the file refuses.
  const mistyped = Object.keys(others).filter((key) => didYouMean(key, ['secretEnv']));
  for (const key of mistyped) {
    problems.push(`${at}.${key}: unknown option — did you mean "secretEnv"?`);
  }
  const rest = Object.fromEntries(
    Object.entries(others).filter(([key]) => !mistyped.includes(key)),
  );
  if (secret !== undefined) {
    // Never echo it: only say where it does not belong.
    problems.push(
      `${at}.secret: a secret is never written in the config file; name its environment variable with secretEnv`,
    );
  }
  const names = secretEnvSchema.safeParse(secretEnv);
  if (!names.success) {
    if (mistyped.length === 0) problems.push(`${at}.secretEnv ${names.error.issues[0].message}`);
    return { ...(tracker as object), signing: { ...rest, secret: STAND_IN_SECRET } };
  }
  const name = (tracker as { name?: unknown }).name;
  const secrets = [names.data].flat().map((variable) => {
    const value = environment[variable];
    const problem = !value
      ? 'is not set'
      : rest.type === 'hmac'
        ? hmacSecretProblem(value)
        : undefined;
    if (!problem) return value!;
    // Named by its variable, which is what the operator sets; never its value.
    problems.push(
      `tracker "${String(name)}": environment variable ${variable} (its signing secret) ${problem}`,
    );
    return STAND_IN_SECRET;
  });
  return {
    ...(tracker as object),
    signing: { ...rest, secret: Array.isArray(names.data) ? secrets : secrets[0] },
  };
}

/**
 * Every problem of a config file: its own (unset variables, a secret written in it, unknown
 * top-level keys) and those of the options it describes, in one list.
 */
export function agentConfigProblems(file: unknown, environment: NodeJS.ProcessEnv): string[] {
  return checkAgentConfig(file, environment).problems;
}

/** The file read once: its options, and every problem of the file and of those options. */
function checkAgentConfig(file: unknown, environment: NodeJS.ProcessEnv): AgentConfig {
  const { options, problems } = readAgentConfig(file, environment);
  return { options, problems: [...problems, ...(options ? postbackOptionProblems(options) : [])] };
}

/**
 * The module options of a config file whose every problem is fixed, or a
 * `PostbackConfigurationError` listing them all, with the file's path.
 */
export function toModuleOptions(
  file: unknown,
  environment: NodeJS.ProcessEnv,
  path = 'config',
): PostbackModuleOptions {
  const { options, problems } = checkAgentConfig(file, environment);
  if (problems.length > 0 || !options) throw new PostbackConfigurationError(problems, path);
  return options;
}

/** Where the agent and the CLI look for the config file when POSTBACK_CONFIG is not set. */
export const DEFAULT_CONFIG_FILE = './config/postback.yaml';

/** Reads a YAML (or JSON) config file: see `toModuleOptions()`. */
export function loadAgentConfig(
  path: string,
  environment: NodeJS.ProcessEnv,
): PostbackModuleOptions {
  return toModuleOptions(readConfigFile(path), environment, path);
}

/** The parsed YAML or JSON, or a `PostbackConfigurationError` saying why it cannot be read. */
export function readConfigFile(path: string): unknown {
  try {
    return parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new PostbackConfigurationError([`cannot be read: ${(error as Error).message}`], path);
  }
}
