/**
 * Child process, figure 2: the agent (agentModule, as `createAgentApp` builds it: JSON body
 * parser with the agent's limit, validation pipe, API-key guard, error filter) on SQLite in a
 * temp dir, plus one bare route on the same app, `POST /bench/noop`, that does nothing: the
 * baseline. The outbox is on (flushIntervalMs large, so only the nudge after each event
 * flushes) and posts to the local receiver.
 */
import 'reflect-metadata';

import { Controller, HttpCode, Module, Post } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DataSource } from 'typeorm';

import { agentModule } from '../src/agent/agent.app.js';
import { loadAgentEnv } from '../src/agent/agent-env.js';
import { agentValidationPipe } from '../src/agent/validation.pipe.js';
import {
  args,
  benchTracker,
  fail,
  onParentMessage,
  send,
  tempDir,
  sqliteSynchronous,
} from './common.js';

@Controller('bench')
class BareController {
  @Post('noop')
  @HttpCode(202)
  noop(): { ok: true } {
    return { ok: true };
  }
}

async function main(): Promise<void> {
  const { receiver = 'http://127.0.0.1:9' } = args();
  const dir = tempDir('events');
  const env = loadAgentEnv({
    DATABASE_URL: `sqlite:${dir.path}/agent.sqlite`,
    SQLITE_SYNCHRONOUS: sqliteSynchronous(),
  });

  @Module({
    imports: [
      agentModule(env, {
        trackers: [benchTracker(receiver)],
        outbox: { flushIntervalMs: 3_600_000, shutdownGraceMs: 1_000 },
      }),
    ],
    controllers: [BareController],
  })
  class BenchAgentModule {}

  // As createAgentApp() does it (src/agent/agent.app.ts), with the bare controller added.
  const app = await NestFactory.create<NestExpressApplication>(BenchAgentModule, {
    logger: ['error', 'warn', 'fatal'],
    bodyParser: false,
    abortOnError: false,
  });
  app.useBodyParser('json', { limit: '64kb' });
  app.useGlobalPipes(agentValidationPipe());
  await app.listen(0, '127.0.0.1');
  const port = (app.getHttpServer().address() as { port: number }).port;

  onParentMessage(async (message) => {
    if (message.type !== 'stop') return;
    const dataSource = app.get(DataSource);
    const states = (await dataSource.query(
      'SELECT state, COUNT(*) AS n FROM postback_outbox GROUP BY state',
    )) as { state: string; n: number }[];
    const [{ n: conversions }] = (await dataSource.query(
      'SELECT COUNT(*) AS n FROM postback_conversions',
    )) as { n: number }[];
    await app.close();
    dir.remove();
    await send({
      type: 'stats',
      data: {
        conversions,
        outboxAtStop: Object.fromEntries(states.map((s) => [s.state, s.n])),
      },
    });
    process.exit(0);
  });
  await send({ type: 'ready', port });
}

main().catch(fail);
