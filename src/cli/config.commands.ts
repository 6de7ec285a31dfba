import {
  type AgentConfigFile,
  agentConfigProblems,
  readConfigFile,
  toModuleOptions,
} from '../agent/agent-config.loader.js';
import type { SigningOptions, TrackerOptions } from '../interfaces/index.js';
import { PostbackConfigurationError } from '../postback-configuration.error.js';
import { samplePostback, SAMPLE_CONVERSION } from '../postback/postback-sample.js';
import { POSTBACK_PRESETS, type PresetName } from '../postback/presets/index.js';
import { resolvePostbackOptions } from '../resolve-postback-options.js';

export interface CommandIo {
  env: NodeJS.ProcessEnv;
  out: (text: string) => void;
}

/**
 * `validate`: checks a whole agent config file without starting anything, and explains every
 * problem: unknown preset or macro, missing placeholder value, unset secret variable, a token
 * over plain HTTP, bad commission rules…
 */
export function runValidate(configPath: string, io: CommandIo): number {
  let file: unknown;
  try {
    file = readConfigFile(configPath);
  } catch (error) {
    io.out((error as Error).message);
    return 1;
  }
  // Unset secret variables are reported, then stood in for, so every other check still runs.
  const problems = agentConfigProblems(file, io.env);
  if (problems.length === 0) {
    const count = (file as AgentConfigFile).trackers.length;
    io.out(`${configPath}: OK (${count} tracker${count === 1 ? '' : 's'})`);
    return 0;
  }
  io.out(`${configPath}: ${problems.length} problem${problems.length === 1 ? '' : 's'}`);
  for (const problem of problems) io.out(`  - ${problem}`);
  return 1;
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

/**
 * `build`: prints, for a preset (with values) or a tracker of a config file, the landing URL
 * shape to give the network and the exact postback a sample purchase would produce, token or
 * signature applied, to paste into the network's test tool before going live.
 */
export function runBuild(args: BuildArgs, io: CommandIo): number {
  let tracker: TrackerOptions;
  if (args.config) {
    let options;
    try {
      options = toModuleOptions(readConfigFile(args.config), io.env, args.config);
    } catch (error) {
      if (!(error instanceof PostbackConfigurationError)) throw error;
      io.out(error.message);
      return 1;
    }
    const found = options.trackers.find(
      (t) => t.name === (args.tracker ?? options.trackers[0]?.name),
    );
    if (!found) {
      io.out(`no tracker "${args.tracker}" in ${args.config}`);
      return 1;
    }
    tracker = found;
  } else if (args.preset) {
    const values = Object.fromEntries(
      args.values.map((pair) => {
        const eq = pair.indexOf('=');
        return eq === -1 ? [pair, ''] : [pair.slice(0, eq), pair.slice(eq + 1)];
      }),
    );
    const secret = args.tokenEnv ? io.env[args.tokenEnv] : undefined;
    if (args.tokenEnv && !secret) {
      io.out(`environment variable ${args.tokenEnv} is not set`);
      return 1;
    }
    tracker = {
      name: args.preset.replace(/[^a-z0-9_-]/g, '-'),
      // A name the registry lacks is refused, with the list, when the options are resolved.
      preset: args.preset as PresetName,
      values,
      ...(args.clickParam && { clickParams: [args.clickParam] }),
      ...(args.currency && { currency: args.currency }),
      ...(secret && { signing: signingFor(args.preset, secret, args.username) }),
    };
  } else {
    io.out(
      'build needs --preset NAME (with --value name=value …) or --config FILE [--tracker NAME]',
    );
    return 2;
  }

  let resolved;
  try {
    resolved = resolvePostbackOptions({ trackers: [tracker] }).trackers.get(tracker.name)!;
  } catch (error) {
    const problems =
      error instanceof PostbackConfigurationError ? error.problems : [(error as Error).message];
    io.out(`cannot build the postback:`);
    for (const problem of problems) io.out(`  - ${problem}`);
    return 1;
  }
  const sample = samplePostback(resolved, tracker.preset, args.shopUrl);
  io.out(`Landing URL to give the network:\n  ${sample.landingUrl}`);
  const currency = resolved.currency ?? SAMPLE_CONVERSION.currency;
  io.out(
    `\nPostback for a sample purchase (order TEST-ORDER-1, customer TEST-CUSTOMER-1, ${SAMPLE_CONVERSION.amount} ${currency}, click TEST-CLICK-1):`,
  );
  io.out(`  ${sample.request.method} ${sample.request.url}`);
  for (const [name, value] of Object.entries(sample.request.headers)) io.out(`  ${name}: ${value}`);
  if (sample.request.body) io.out(`\n  ${sample.request.body}`);
  if (tracker.signing)
    io.out('\n(The secret is applied as it will be sent: do not share this output.)');
  if (sample.notes.length > 0) {
    io.out('\nSet up on the network side:');
    for (const note of sample.notes) io.out(`  - ${note}`);
  }
  if (sample.unconfirmed.length > 0) {
    io.out('\nNot confirmed by the network documentation read; check with the network:');
    for (const fact of sample.unconfirmed) io.out(`  - ${fact}`);
  }
  return 0;
}

/** The signing a preset's secret goes with: its HTTP authentication if it takes one, else a token. */
function signingFor(preset: string, secret: string, username = ''): SigningOptions {
  const auth = POSTBACK_PRESETS.get(preset)?.auth;
  if (auth?.type === 'basic') return { type: 'basic', username, secret };
  if (auth?.type === 'bearer') return { type: 'bearer', secret };
  return { type: 'token', secret };
}
