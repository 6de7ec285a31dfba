#!/usr/bin/env node
import { Logger } from '@nestjs/common';

import { PostbackConfigurationError } from '../errors/postback-configuration.error.js';
import { createAgentApp } from './agent.app.js';
import { loadAgentConfig } from './agent-config.loader.js';
import { listenHost, loadAgentEnv, withoutCredentials } from './agent-env.js';

async function main(): Promise<void> {
  const logger = new Logger('PostbackAgent');
  const env = loadAgentEnv(process.env);
  const options = loadAgentConfig(env.POSTBACK_CONFIG, process.env);
  const app = await createAgentApp(env, options);
  const host = listenHost(env);
  await app.listen(env.PORT, host);
  const where = `http://${host.includes(':') ? `[${host}]` : host}:${env.PORT}`;
  const database = withoutCredentials(env.DATABASE_URL);
  logger.log(`Listening on ${where} (database ${database}, config ${env.POSTBACK_CONFIG})`);
  logger.log(`Trackers: ${options.trackers.map((t) => t.name).join(', ')}`);
  if (!env.POSTBACK_API_KEY) {
    logger.warn(
      'POSTBACK_API_KEY is not set: the API accepts any caller, so the agent listens on loopback only. Set a key to listen on other interfaces.',
    );
  }
  if (!env.POSTBACK_VISITOR_KEY_SECRET) {
    logger.warn(
      'POSTBACK_VISITOR_KEY_SECRET is not set: session keys are stored as plain SHA-256, which anyone holding the database can test guesses against if they can be guessed (an e-mail address). Set it to a random value of at least 16 characters, before the first start if you can: a later start with it set is refused until the stored session keys are given up (see the README).',
    );
  }
}

main().catch((error: Error) => {
  // A configuration error is for a person to read: its message, once, and nothing else.
  // Other errors get a heading (those raised inside Nest it has logged with their stack).
  if (error instanceof PostbackConfigurationError) console.error(error.message);
  else console.error(`nestjs-postback agent could not start:\n${error.message}`);
  process.exit(1);
});
