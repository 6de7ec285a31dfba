/**
 * Child process, figure 4: outbox drain on SQLite to the local receiver.
 *
 *   --mode=module  seeds `--count` pending purchases with their outbox rows straight into the
 *                  database (test/utils/seed-outbox.ts: TypeORM inserts of Conversion +
 *                  Postback, 500 a transaction, all due now), then
 *                  starts PostbackModule (outbox.concurrency `--concurrency`) and times
 *                  OutboxFlusher.flush() — the flusher's own drain loop: claim, render, send,
 *                  settle — until every row is delivered;
 *   --mode=axios   the baseline: a bare axios loop with a keep-alive agent, `--concurrency`
 *                  requests in flight, sending the same number of GETs of the same shape to
 *                  the same receiver.
 */
import 'reflect-metadata';

import http from 'node:http';
import { performance } from 'node:perf_hooks';

import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ScheduleModule } from '@nestjs/schedule';
import { TypeOrmModule } from '@nestjs/typeorm';
import axios from 'axios';
import { DataSource } from 'typeorm';

import { postbackDataSourceOptions } from '../../src/postback.data-source.js';
import { OutboxFlusher, PostbackModule } from '../../src/index.js';
import { clickIdOf, orderIdOf, seedPendingPostbacks } from '../../test/utils/seed-outbox.js';
import { threadCpuMs, threadCpuPerItem } from '../lib/cpu.js';
import { tempDir } from '../lib/temp-dir.js';
import { benchTracker, TRACKER } from '../lib/tracker.js';
import { args, fail, runConcurrently, send, sqliteSynchronous } from './child.js';

/** The pending purchases both modes deliver: the outbox rows' values, the axios loop's URLs. */
const SEED = { tracker: TRACKER, prefix: 'order-', commission: '0.75', currency: 'EUR' };

let peakRss = 0;
const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage.rss())), 50);

async function moduleMode(
  receiver: string,
  count: number,
  concurrency: number,
  deadlineMs: number,
) {
  const dir = tempDir('drain');
  const url = `sqlite:${dir.path}/agent.sqlite`;
  const seeding = performance.now();
  const seedSource = await new DataSource(
    postbackDataSourceOptions({ url, sqliteSynchronous: sqliteSynchronous() }),
  ).initialize();
  await seedPendingPostbacks(seedSource, { ...SEED, count });
  await seedSource.destroy();
  const seedSeconds = (performance.now() - seeding) / 1000;

  @Module({
    imports: [
      TypeOrmModule.forRoot(
        postbackDataSourceOptions({ url, sqliteSynchronous: sqliteSynchronous() }),
      ),
      ScheduleModule.forRoot(),
      PostbackModule.forRoot({
        trackers: [benchTracker(receiver)],
        capture: { enabled: false },
        // The schedule is off so that the timed flush() below is the only drain.
        outbox: { enabled: false, concurrency },
      }),
    ],
  })
  class DrainModule {}

  const app = await NestFactory.createApplicationContext(DrainModule, {
    logger: ['error', 'warn', 'fatal'],
  });
  const flusher = app.get(OutboxFlusher);
  const dataSource = app.get(DataSource);
  const left = async () =>
    Number(
      (
        (await dataSource.query(
          "SELECT COUNT(*) AS n FROM postback_outbox WHERE state IN ('pending', 'in_flight')",
        )) as { n: number }[]
      )[0].n,
    );
  const started = performance.now();
  const loop = performance.eventLoopUtilization();
  const cpu = threadCpuMs();
  let flushes = 0;
  do {
    await flusher.flush();
    flushes++;
  } while ((await left()) > 0 && performance.now() - started < deadlineMs);
  const seconds = (performance.now() - started) / 1000;
  const { active } = performance.eventLoopUtilization(loop);
  const cpuUsPerPostback = threadCpuPerItem(cpu, count);
  const states = (await dataSource.query(
    'SELECT state, COUNT(*) AS n FROM postback_outbox GROUP BY state',
  )) as { state: string; n: number }[];
  const [{ n: attempts }] = (await dataSource.query(
    'SELECT COUNT(*) AS n FROM postback_attempts',
  )) as { n: number }[];
  await app.close();
  dir.remove();
  const byState = Object.fromEntries(states.map((s) => [s.state, Number(s.n)]));
  return {
    perSecond: (byState.delivered ?? 0) / seconds,
    mainThreadUsPerPostback: (active * 1000) / count,
    cpuUsPerPostback,
    seconds,
    count,
    concurrency,
    flushes,
    states: byState,
    attempts: Number(attempts),
    seedSeconds,
  };
}

async function axiosMode(receiver: string, count: number, concurrency: number) {
  // A bare keep-alive loop: Node's agent with its defaults (1 s TCP keep-alive delay, which the
  // module's client raises to axios' 60 s), 2 sockets per slot as the module has.
  const client = axios.create({
    httpAgent: new http.Agent({ keepAlive: true, maxSockets: concurrency * 2 }),
    maxRedirects: 0,
    responseType: 'text',
    validateStatus: () => true,
  });
  let ok = 0;
  const started = performance.now();
  const loop = performance.eventLoopUtilization();
  const cpu = threadCpuMs();
  await runConcurrently(count, concurrency, async (n) => {
    const response = await client.get(
      `${receiver}/postback?cid=${clickIdOf(SEED.prefix, n)}&txid=${orderIdOf(SEED.prefix, n)}&payout=${SEED.commission}&currency=${SEED.currency}`,
    );
    if (response.status === 200) ok++;
  });
  const seconds = (performance.now() - started) / 1000;
  const { active } = performance.eventLoopUtilization(loop);
  const cpuUsPerPostback = threadCpuPerItem(cpu, count);
  return {
    perSecond: ok / seconds,
    mainThreadUsPerPostback: (active * 1000) / count,
    cpuUsPerPostback,
    seconds,
    count,
    ok,
    concurrency,
  };
}

async function main(): Promise<void> {
  const {
    mode = 'module',
    receiver,
    count = '20000',
    concurrency = '16',
    deadline = '60000',
  } = args();
  if (!receiver) throw new Error('--receiver=<url> is required');
  const data =
    mode === 'axios'
      ? await axiosMode(receiver, Number(count), Number(concurrency))
      : await moduleMode(receiver, Number(count), Number(concurrency), Number(deadline));
  clearInterval(sampler);
  await send({ type: 'result', data: { ...data, peakRssMb: Math.round(peakRss / 2 ** 20) } });
  process.exit(0);
}

main().catch(fail);
