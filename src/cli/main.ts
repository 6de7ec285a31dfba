#!/usr/bin/env node
/**
 * `nestjs-postback`: outbox operations through the running agent's admin API, configuration
 * checks and samples, presets, signing secrets. `nestjs-postback --help` and
 * `nestjs-postback <command> --help` say the rest. Exit codes: 0 done, 1 problems, 2 usage.
 */
import { realpathSync } from 'node:fs';

import { Command, CommanderError } from 'commander';

import { DEFAULT_CONFIG_FILE } from '../agent/agent-config.loader.js';
import { generateHmacSecret } from '../postback/hmac-secret.js';
import { CLI_MAIN_FILE } from './cli-main-file.cjs';
import { type CliIo, collect, type CommandIo, EXIT } from './cli-io.js';
import { type BuildArgs, runBuild, runValidate } from './config.commands.js';
import { addOutboxCommands } from './outbox.commands.js';
import { presetsText } from './presets.command.js';
import { usage } from './usage.js';

export type { CliIo } from './cli-io.js';

/** The program, its output going to `io`; `done` receives each command's exit code. */
function program(io: CommandIo & CliIo, done: (code: number) => void): Command {
  const cli = new Command('nestjs-postback')
    .description('Server-to-server conversion postbacks: check, try and operate them.')
    .exitOverride()
    .configureOutput({
      writeOut: (text) => text.trim() && io.out(text.trimEnd()),
      writeErr: (text) => text.trim() && io.err(text.trimEnd()),
    })
    // Lower-case titles, as in `usage: nestjs-postback …`.
    .configureHelp({ styleTitle: (title) => title.toLowerCase() })
    .showHelpAfterError();

  cli
    .command('validate')
    .description('check a whole agent config file, every problem at once, without starting')
    .option(
      '--config <file>',
      'the config file (default: $POSTBACK_CONFIG or ./config/postback.yaml)',
    )
    .action((options: { config?: string }) =>
      done(runValidate(options.config ?? io.env.POSTBACK_CONFIG ?? DEFAULT_CONFIG_FILE, io)),
    );

  cli
    .command('build')
    .description(
      "print a preset's or a configured tracker's landing URL shape and the exact postback of a sample purchase",
    )
    .option('--preset <name>', 'a preset (see `nestjs-postback presets`)')
    .option('--value <name=value>', 'a value the preset needs (repeat for each)', collect)
    .option('--token-env <var>', "the environment variable holding the network's secret")
    .option('--username <name>', 'the user name of HTTP Basic authentication (Impact)')
    .option('--click-param <param>', "the landing parameter of the click ID, over the preset's")
    .option('--currency <code>', 'the currency the network reads amounts in (Everflow)')
    .option('--shop-url <url>', 'the landing page to show (default https://your-shop.example/)')
    .option('--config <file>', 'build a tracker of this agent config file instead')
    .option('--tracker <name>', 'with --config: the tracker (default: the first)')
    .addHelpText(
      'after',
      '\nexamples:\n' +
        '  nestjs-postback build --preset keitaro --value tracking_domain=trk.example.com --token-env KEITARO_KEY\n' +
        '  nestjs-postback build --config config/postback.yaml --tracker example\n' +
        'A secret variable not exported yet is shown where its value goes; export it for the exact request.',
    )
    .action((options: BuildArgs & { value?: string[] }, command: Command) => {
      if (!options.preset === !options.config) {
        usage(command, 'give --preset NAME or --config FILE (one of them).');
      }
      done(runBuild({ ...options, values: options.value ?? [] }, io));
    });

  cli
    .command('presets')
    .description('the built-in presets, with the values each needs')
    .argument('[name]', 'one preset only')
    .action((name: string | undefined, _options: object, command: Command) => {
      const text = presetsText(name);
      if (text === undefined)
        usage(command, `no preset "${name}": run \`nestjs-postback presets\`.`);
      io.out(text);
      done(EXIT.ok);
    });

  cli
    .command('secret')
    .description('print a new HMAC signing secret: whsec_ + 32 random bytes in base64')
    .action(() => {
      // Only the secret on stdout, so that `SECRET=$(nestjs-postback secret)` works.
      io.out(generateHmacSecret());
      done(EXIT.ok);
    });

  addOutboxCommands(cli, io, done);
  return cli;
}

/** Runs one command; returns the process exit code. */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const full = { ...io, err: io.err ?? io.out };
  let code: number = EXIT.ok;
  const cli = program(full, (result) => (code = result));
  try {
    await cli.parseAsync(argv, { from: 'user' });
    return code;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version are answers; everything else commander refuses is usage.
      return ['commander.helpDisplayed', 'commander.version'].includes(error.code)
        ? EXIT.ok
        : EXIT.usage;
    }
    full.err(`nestjs-postback: ${(error as Error).message}`);
    return EXIT.problems;
  }
}

// Run when executed (directly or through npm's bin symlink), not when imported by a test.
const invoked = process.argv[1] ? realpathSync(process.argv[1]) : '';
if (invoked === CLI_MAIN_FILE) {
  runCli(process.argv.slice(2), {
    env: process.env,
    out: (text) => console.log(text),
    err: (text) => console.error(text),
    fetch,
  }).then(
    (code) => process.exit(code),
    (error: Error) => {
      console.error(`nestjs-postback: ${error.message}`);
      process.exit(1);
    },
  );
}
