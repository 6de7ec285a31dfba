import {
  type AgentConfigFile,
  agentConfigProblems,
  readConfigFile,
  toModuleOptions,
} from '../agent/agent-config.loader.js';
import type { SigningOptions, TrackerOptions } from '../interfaces/index.js';
import { STAND_IN_SECRET } from '../options/parse-options.js';
import { PostbackConfigurationError } from '../errors/postback-configuration.error.js';
import { POSTBACK_PRESETS, type PresetName } from '../postback/presets/index.js';
import { resolvePostbackOptions } from '../options/resolve-options.js';
import { type CommandIo, EXIT } from './cli-io.js';
import { printSample } from './sample-output.js';

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

function printProblems(io: CommandIo, heading: string, problems: readonly string[]): number {
  io.err(`${heading}: ${plural(problems.length, 'problem')}`);
  for (const problem of problems) io.err(`  - ${problem}`);
  return EXIT.problems;
}

/** The file, or the reason it cannot be read (a problem, not a crash). */
function readFile(path: string): { file?: unknown; problems: string[] } {
  try {
    return { file: readConfigFile(path), problems: [] };
  } catch (error) {
    if (!(error instanceof PostbackConfigurationError)) throw error;
    return { problems: error.problems };
  }
}

/**
 * `validate`: checks a whole agent config file without starting anything, and explains every
 * problem: unknown preset or macro, missing placeholder value, unset secret variable, a token
 * over plain HTTP, bad commission rules…
 */
export function runValidate(configPath: string, io: CommandIo): number {
  const { file, problems: unreadable } = readFile(configPath);
  // Unset secret variables are reported, then stood in for, so every other check still runs.
  const problems = unreadable.length > 0 ? unreadable : agentConfigProblems(file, io.env);
  if (problems.length > 0) return printProblems(io, configPath, problems);
  const count = (file as AgentConfigFile).trackers.length;
  io.out(`${configPath}: OK (${plural(count, 'tracker')})`);
  return EXIT.ok;
}

export interface BuildArgs {
  preset?: string;
  config?: string;
  tracker?: string;
  values: string[];
  /**
   * The variable holding the network's secret: its security token, or for a network that
   * takes HTTP authentication (Impact, Dub) the password or API key, with `username` for basic.
   */
  tokenEnv?: string;
  username?: string;
  clickParam?: string;
  shopUrl?: string;
  /** The one currency the network reads amounts in (Everflow's offer currency). */
  currency?: string;
}

/** The tracker to build, and the secret variables not set yet (a stand-in signs meanwhile). */
interface Built {
  tracker: TrackerOptions;
  unset: string[];
  /** Problems of the arguments, listed with the tracker's own. */
  problems?: string[];
}

/**
 * `build`: prints, for a preset (with values) or a tracker of a config file, the landing URL
 * shape to give the network and the exact postback a sample purchase would produce, token or
 * signature applied, to paste into the network's test tool before going live. Every problem
 * is listed at once. A secret variable not exported yet is no problem: the sample shows where
 * its value goes.
 */
export function runBuild(args: BuildArgs, io: CommandIo): number {
  const heading = args.config ?? 'cannot build the postback';
  const built = args.config
    ? fromConfig(args.config, args.tracker, io.env)
    : fromPreset(args, io.env);
  if (!('tracker' in built)) return printProblems(io, heading, built.problems);
  let resolved;
  const problems = built.problems ?? [];
  try {
    resolved = resolvePostbackOptions({ trackers: [built.tracker] }).trackers.get(
      built.tracker.name,
    )!;
  } catch (error) {
    if (!(error instanceof PostbackConfigurationError)) throw error;
    problems.push(...error.problems);
  }
  if (problems.length > 0 || !resolved) return printProblems(io, heading, problems);
  printSample(io, resolved, built.tracker.preset, args.shopUrl, built.unset);
  return EXIT.ok;
}

function fromConfig(
  path: string,
  name: string | undefined,
  env: NodeJS.ProcessEnv,
): Built | { problems: string[] } {
  const { file, problems } = readFile(path);
  if (problems.length > 0) return { problems };
  const trackers = Array.isArray((file as AgentConfigFile | null)?.trackers)
    ? (file as AgentConfigFile).trackers
    : [];
  const wanted = name ?? trackers[0]?.name;
  const unsetOf = (tracker: AgentConfigFile['trackers'][number]) =>
    [tracker.signing?.secretEnv ?? []].flat().filter((variable) => !env[variable]);
  // Every unset secret variable stood in for: none is needed to print a sample.
  const standIns = Object.fromEntries(trackers.flatMap(unsetOf).map((v) => [v, STAND_IN_SECRET]));
  let options;
  try {
    options = toModuleOptions(file, { ...env, ...standIns }, path);
  } catch (error) {
    if (!(error instanceof PostbackConfigurationError)) throw error;
    return { problems: error.problems };
  }
  const tracker = options.trackers.find((t) => t.name === wanted);
  if (!tracker) {
    const known = options.trackers.map((t) => t.name).join(', ');
    return { problems: [`no tracker "${wanted}"; the file has: ${known}`] };
  }
  return { tracker, unset: unsetOf(trackers.find((t) => t.name === wanted)!) };
}

function fromPreset(args: BuildArgs, env: NodeJS.ProcessEnv): Built {
  const preset = args.preset!;
  const problems: string[] = [];
  const values: Record<string, string> = {};
  for (const pair of args.values) {
    const eq = pair.indexOf('=');
    if (eq <= 0) problems.push(`--value ${pair}: give name=value`);
    else values[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  const unset = args.tokenEnv && !env[args.tokenEnv] ? [args.tokenEnv] : [];
  const secret = args.tokenEnv && (env[args.tokenEnv] || STAND_IN_SECRET);
  const tracker: TrackerOptions = {
    name: preset.replace(/[^a-z0-9_-]/g, '-'),
    // A name the registry lacks is refused, with the list, when the options are resolved.
    preset: preset as PresetName,
    values,
    ...(args.clickParam && { clickParams: [args.clickParam] }),
    ...(args.currency && { currency: args.currency }),
    ...(secret && { signing: signingFor(preset, secret, args.username) }),
  };
  return { tracker, unset, problems };
}

/** The signing a preset's secret goes with: its HTTP authentication if it takes one, else a token. */
function signingFor(preset: string, secret: string, username = ''): SigningOptions {
  const auth = POSTBACK_PRESETS.get(preset)?.auth;
  if (auth?.type === 'basic') return { type: 'basic', username, secret };
  if (auth?.type === 'bearer') return { type: 'bearer', secret };
  return { type: 'token', secret };
}
