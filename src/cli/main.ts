#!/usr/bin/env node
/**
 * `nestjs-postback outbox <command>`: outbox operations from a terminal, through the running
 * agent's admin API (on SQLite only the agent may open the database file).
 *
 *   nestjs-postback outbox list [--state dead] [--limit 50]
 *   nestjs-postback outbox replay (--id ID ... | --tracker NAME | --all) [--state dead|cancelled]
 *   nestjs-postback outbox cancel (--id ID ... | --tracker NAME | --all)
 *   nestjs-postback outbox purge --older-than-days 30
 *   nestjs-postback build --preset keitaro --value tracking_domain=trk.example.com --token-env KEITARO_KEY
 *   nestjs-postback build --config config/postback.yaml [--tracker NAME]
 *   nestjs-postback validate [--config config/postback.yaml]
 *
 * Environment: POSTBACK_AGENT_URL (default http://127.0.0.1:$PORT, port 3000),
 * POSTBACK_ADMIN_KEY for replay/cancel/purge, POSTBACK_API_KEY for list.
 */
import { realpathSync } from 'node:fs';
import { parseArgs } from 'node:util';

import { CLI_MAIN_FILE } from './cli-main-file.cjs';
import { runBuild, runValidate } from './config.commands.js';

const USAGE = `usage:
  nestjs-postback outbox list [--state pending|in_flight|delivered|dead|cancelled] [--limit N]
  nestjs-postback outbox replay (--id ID ... | --tracker NAME | --all) [--state dead|cancelled]
  nestjs-postback outbox cancel (--id ID ... | --tracker NAME | --all)
  nestjs-postback outbox purge --older-than-days N
  nestjs-postback build --preset NAME [--value name=value ...] [--token-env VAR [--username NAME]] [--click-param P] [--currency CODE] [--shop-url URL]
  nestjs-postback build --config FILE [--tracker NAME]
  nestjs-postback validate [--config FILE]`;

interface CliIo {
  env: NodeJS.ProcessEnv;
  out: (text: string) => void;
  fetch: typeof fetch;
}

/** Runs one command; returns the process exit code. */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      state: { type: 'string' },
      limit: { type: 'string' },
      id: { type: 'string', multiple: true },
      tracker: { type: 'string' },
      all: { type: 'boolean' },
      'older-than-days': { type: 'string' },
      preset: { type: 'string' },
      config: { type: 'string' },
      value: { type: 'string', multiple: true },
      'token-env': { type: 'string' },
      username: { type: 'string' },
      'click-param': { type: 'string' },
      'shop-url': { type: 'string' },
      currency: { type: 'string' },
    },
  });
  const [group, command] = positionals;
  const config = values.config ?? io.env.POSTBACK_CONFIG ?? './config/postback.yaml';
  if (group === 'validate') return runValidate(config, io);
  if (group === 'build') {
    return runBuild(
      {
        preset: values.preset,
        config: values.config,
        tracker: values.tracker,
        values: values.value ?? [],
        tokenEnv: values['token-env'],
        username: values.username,
        clickParam: values['click-param'],
        shopUrl: values['shop-url'],
        currency: values.currency,
      },
      io,
    );
  }
  if (group !== 'outbox' || !command) {
    io.out(USAGE);
    return 2;
  }
  const base = (io.env.POSTBACK_AGENT_URL ?? `http://127.0.0.1:${io.env.PORT ?? 3000}`).replace(
    /\/$/,
    '',
  );
  const call = async (method: string, path: string, key: string | undefined, body?: unknown) => {
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
    io.out(JSON.stringify(await response.json(), null, 2));
    return response.ok ? 0 : 1;
  };
  const selection = { ids: values.id, tracker: values.tracker, all: values.all };
  const admin = io.env.POSTBACK_ADMIN_KEY;
  switch (command) {
    case 'list': {
      const query = new URLSearchParams();
      if (values.state) query.set('state', values.state);
      if (values.limit) query.set('limit', values.limit);
      return call('GET', `/v1/postbacks?${query}`, io.env.POSTBACK_API_KEY);
    }
    case 'replay':
      return call('POST', '/v1/admin/postbacks/replay', admin, {
        ...selection,
        state: values.state,
      });
    case 'cancel':
      return call('POST', '/v1/admin/postbacks/cancel', admin, selection);
    case 'purge':
      return call('POST', '/v1/admin/postbacks/purge', admin, {
        olderThanDays: Number(values['older-than-days']),
      });
    default:
      io.out(USAGE);
      return 2;
  }
}

// Run when executed (directly or through npm's bin symlink), not when imported by a test.
const invoked = process.argv[1] ? realpathSync(process.argv[1]) : '';
if (invoked === CLI_MAIN_FILE) {
  runCli(process.argv.slice(2), { env: process.env, out: console.log, fetch }).then(
    (code) => process.exit(code),
    (error: Error) => {
      console.error(`nestjs-postback: ${error.message}`);
      process.exit(1);
    },
  );
}
