/**
 * Child process: the agent (agentModule, as `createAgentApp` builds it: JSON body parser with
 * the agent's limit, validation pipe, API-key guard, error filter) posting to the local
 * receiver, plus one bare route on the same app, `POST /bench/noop`, that does nothing: the
 * baseline of the events figure.
 *
 *   --database=<url>  the agent's DATABASE_URL; by default a SQLite file in a temp dir, at
 *                     `--synchronous`;
 *   --outbox=<json>   the outbox options of the agent's config file; by default a schedule of
 *                     an hour, so only the nudge after each event flushes (the events figure).
 *                     `{}` is the agent's defaults.
 *
 * 'status' with `counts: true` adds the outbox rows per state and the attempts per outcome.
 */
import 'reflect-metadata';

import { Controller, HttpCode, Module, Post } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DataSource } from 'typeorm';

import { agentModule } from '../../src/agent/agent.app.js';
import { loadAgentEnv } from '../../src/agent/agent-env.js';
import { agentValidationPipe } from '../../src/agent/validation.pipe.js';
import type { OutboxOptions } from '../../src/interfaces/index.js';
import { benchTracker } from '../lib/tracker.js';
import { args, fail, sqliteSynchronous } from './child.js';
import { appDir, nestOptions, serve } from './server.js';

const EVENTS_FIGURE_OUTBOX: OutboxOptions = { flushIntervalMs: 3_600_000, shutdownGraceMs: 1_000 };

@Controller('bench')
class BareController {
  @Post('noop')
  @HttpCode(202)
  noop(): { ok: true } {
    return { ok: true };
  }
}

/** Rows per value of `column`, e.g. the outbox per state. */
async function countBy(
  dataSource: DataSource,
  table: string,
  column: string,
): Promise<Record<string, number>> {
  const rows = (await dataSource.query(
    `SELECT ${column} AS k, COUNT(*) AS n FROM ${table} GROUP BY ${column}`,
  )) as { k: string; n: number | string }[];
  return Object.fromEntries(rows.map((r) => [String(r.k), Number(r.n)]));
}

async function main(): Promise<void> {
  const { receiver = 'http://127.0.0.1:9', database, outbox } = args();
  const file = database ? undefined : `${appDir('events')}/agent.sqlite`;
  const env = loadAgentEnv({
    DATABASE_URL: database ?? `sqlite:${file}`,
    SQLITE_SYNCHRONOUS: sqliteSynchronous(),
  });
  const outboxOptions = outbox ? (JSON.parse(outbox) as OutboxOptions) : EVENTS_FIGURE_OUTBOX;

  @Module({
    imports: [agentModule(env, { trackers: [benchTracker(receiver)], outbox: outboxOptions })],
    controllers: [BareController],
  })
  class BenchAgentModule {}

  // As createAgentApp() does it (src/agent/agent.app.ts), with the bare controller added.
  const app = await NestFactory.create<NestExpressApplication>(BenchAgentModule, {
    ...nestOptions,
    bodyParser: false,
    abortOnError: false,
  });
  app.useBodyParser('json', { limit: '64kb' });
  app.useGlobalPipes(agentValidationPipe());
  const dataSource = app.get(DataSource);

  await serve(app, {
    ready: { file },
    async status(message) {
      if (!message.counts) return {};
      return {
        outbox: await countBy(dataSource, 'postback_outbox', 'state'),
        attempts: await countBy(dataSource, 'postback_attempts', 'outcome'),
      };
    },
    async stop() {
      const outboxAtStop = await countBy(dataSource, 'postback_outbox', 'state');
      const [{ n: conversions }] = (await dataSource.query(
        'SELECT COUNT(*) AS n FROM postback_conversions',
      )) as { n: number | string }[];
      await app.close();
      return { conversions: Number(conversions), outboxAtStop };
    },
  });
}

main().catch(fail);
