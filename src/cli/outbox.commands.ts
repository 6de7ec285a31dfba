import { type Command, InvalidArgumentError, Option } from 'commander';

import { POSTBACK_STATES } from '../outbox/postback-query.service.js';
import { type CliIo, collect, type CommandIo, EXIT } from './cli-io.js';
import { usage } from './usage.js';

/** A whole number in [min, max], for an option; anything else is a usage mistake. */
export const wholeNumber =
  (min: number, max: number) =>
  (text: string): number => {
    const value = Number(text);
    if (!/^\d+$/.test(text) || value < min || value > max) {
      throw new InvalidArgumentError(`give a whole number from ${min} to ${max}.`);
    }
    return value;
  };

interface Selection {
  id?: string[];
  tracker?: string;
  all?: boolean;
  state?: string;
}

/**
 * `outbox list|replay|cancel|purge`: through the running agent's API (on SQLite only the agent
 * may open the database file). POSTBACK_AGENT_URL, POSTBACK_API_KEY, POSTBACK_ADMIN_KEY.
 */
export function addOutboxCommands(
  program: Command,
  io: CommandIo & CliIo,
  done: (code: number) => void,
): void {
  const outbox = program
    .command('outbox')
    .description(
      "the outbox, through the running agent's API: POSTBACK_AGENT_URL (default " +
        'http://127.0.0.1:$PORT, port 3000), POSTBACK_API_KEY for list, POSTBACK_ADMIN_KEY for ' +
        'replay, cancel and purge',
    );
  const call = agentCall(io);
  const selection = (command: Command) =>
    command
      .option('--id <id>', 'a postback ID (repeat for several)', collect)
      .option('--tracker <name>', "every matching postback of this tracker's")
      .option('--all', 'every matching postback');
  const selected = (options: Selection, command: Command) => {
    if (!options.id && !options.tracker && !options.all) {
      usage(command, 'give --id ID, --tracker NAME or --all.');
    }
    return { ids: options.id, tracker: options.tracker, all: options.all };
  };

  outbox
    .command('list')
    .description('postbacks, newest first, with every attempt (dead letters with their reasons)')
    .addOption(
      new Option('--state <state>', 'only postbacks in this state').choices(POSTBACK_STATES),
    )
    .option('--limit <n>', 'at most this many (1-500)', wholeNumber(1, 500))
    .action(async (options: { state?: string; limit?: number }) => {
      const query = new URLSearchParams();
      if (options.state) query.set('state', options.state);
      if (options.limit) query.set('limit', String(options.limit));
      done(await call('GET', `/v1/postbacks?${query}`, io.env.POSTBACK_API_KEY));
    });

  selection(outbox.command('replay'))
    .description('send dead (or cancelled) postbacks again, with a fresh attempt budget')
    .addOption(new Option('--state <state>', 'only this state').choices(['dead', 'cancelled']))
    .action(async (options: Selection, command: Command) => {
      const body = { ...selected(options, command), state: options.state };
      done(await call('POST', '/v1/admin/postbacks/replay', io.env.POSTBACK_ADMIN_KEY, body));
    });

  selection(outbox.command('cancel'))
    .description('cancel pending or dead postbacks')
    .action(async (options: Selection, command: Command) => {
      const body = selected(options, command);
      done(await call('POST', '/v1/admin/postbacks/cancel', io.env.POSTBACK_ADMIN_KEY, body));
    });

  outbox
    .command('purge')
    .description('delete postbacks delivered more than N days ago')
    .requiredOption('--older-than-days <n>', 'age in days (1-3650)', wholeNumber(1, 3650))
    .action(async (options: { olderThanDays: number }) => {
      const body = { olderThanDays: options.olderThanDays };
      done(await call('POST', '/v1/admin/postbacks/purge', io.env.POSTBACK_ADMIN_KEY, body));
    });
}

/** One call to the agent: its JSON answer printed (to stderr when refused), 0 or 1. */
function agentCall(io: CommandIo & CliIo) {
  const base = (io.env.POSTBACK_AGENT_URL ?? `http://127.0.0.1:${io.env.PORT ?? 3000}`).replace(
    /\/$/,
    '',
  );
  return async (method: string, path: string, key: string | undefined, body?: unknown) => {
    const response = await io
      .fetch(`${base}${path}`, {
        method,
        headers: {
          'content-type': 'application/json',
          ...(key && { authorization: `Bearer ${key}` }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      })
      .catch((error: Error) => {
        throw new Error(
          `cannot reach the agent at ${base} (${error.message}); is it running? Set POSTBACK_AGENT_URL to its address`,
        );
      });
    const text = JSON.stringify(await response.json(), null, 2);
    if (!response.ok) {
      io.err(text);
      return EXIT.problems;
    }
    io.out(text);
    return EXIT.ok;
  };
}
