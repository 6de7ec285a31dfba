/**
 * Child process, figure 4: outbox drain on SQLite to the local receiver.
 *
 *   --mode=module  seeds `--count` pending purchases with their outbox rows straight into the
 *                  database (as test/databases/multi-process.db-spec.ts seeds them: TypeORM
 *                  inserts of Conversion + Postback, 500 a transaction, all due now), then
 *                  starts PostbackModule (outbox.concurrency `--concurrency`) and times
 *                  OutboxFlusher.flush() — the flusher's own drain loop: claim, render, send,
 *                  settle — until every row is delivered;
 *   --mode=axios   the baseline: a bare axios loop with a keep-alive agent, `--concurrency`
 *                  requests in flight, sending the same number of GETs of the same shape to
 *                  the same receiver.
 */
import 'reflect-metadata';

import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { performance } from 'node:perf_hooks';

import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ScheduleModule } from '@nestjs/schedule';
import { TypeOrmModule } from '@nestjs/typeorm';
import axios from 'axios';
import { DataSource } from 'typeorm';

import { Conversion } from '../src/conversion/conversion.entity.js';
import { postbackDataSourceOptions } from '../src/database/data-source-options.js';
import { OutboxFlusher, Postback, PostbackModule } from '../src/index.js';
import {
  args,
  benchTracker,
  fail,
  runConcurrently,
  send,
  tempDir,
  TRACKER,
  sqliteSynchronous,
} from './common.js';

let peakRss = 0;
const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 50);

async function seed(dataSource: DataSource, count: number): Promise<void> {
  const now = Date.now();
  const CHUNK = 500;
  for (let start = 0; start < count; start += CHUNK) {
    const conversions: Conversion[] = [];
    const postbacks: Postback[] = [];
    for (let n = start; n < Math.min(count, start + CHUNK); n++) {
      const orderId = `order-${n}`;
      const clickId = `click-${n}`;
      const createdAt = now - (count - n);
      const conversion: Conversion = {
        id: randomUUID(),
        type: 'purchase',
        reference: orderId,
        orderId,
        customerId: null,
        visitorKey: null,
        amount: '10.00',
        currency: 'EUR',
        commission: '0.75',
        commissionCurrency: 'EUR',
        tracker: TRACKER,
        clickId,
        attribution: 'click_id',
        occurredAt: createdAt,
        createdAt,
      };
      conversions.push(conversion);
      postbacks.push({
        id: randomUUID(),
        conversionId: conversion.id,
        tracker: TRACKER,
        state: 'pending',
        fields: {
          clickId,
          eventType: 'purchase',
          conversionId: conversion.id,
          occurredAt: createdAt,
          orderId,
          amount: '10.00',
          currency: 'EUR',
          payout: '0.75',
          payoutCurrency: 'EUR',
          sub: {},
        },
        attempts: 0,
        afterPostbackId: null,
        nextAttemptAt: createdAt,
        leaseOwner: null,
        claimToken: null,
        lastStatus: null,
        lastError: null,
        deliveredAt: null,
        createdAt,
        updatedAt: createdAt,
      });
    }
    await dataSource.transaction(async (manager) => {
      await manager.insert(Conversion, conversions);
      await manager.insert(Postback, postbacks);
    });
  }
}

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
  await seed(seedSource, count);
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
  let flushes = 0;
  do {
    await flusher.flush();
    flushes++;
  } while ((await left()) > 0 && performance.now() - started < deadlineMs);
  const seconds = (performance.now() - started) / 1000;
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
  // The module's client settings where they cost something: keep-alive, 2 sockets per slot.
  const client = axios.create({
    httpAgent: new http.Agent({ keepAlive: true, maxSockets: concurrency * 2 }),
    maxRedirects: 0,
    responseType: 'text',
    validateStatus: () => true,
  });
  let ok = 0;
  const started = performance.now();
  await runConcurrently(count, concurrency, async (n) => {
    const response = await client.get(
      `${receiver}/postback?cid=click-${n}&txid=order-${n}&payout=0.75&currency=EUR`,
    );
    if (response.status === 200) ok++;
  });
  const seconds = (performance.now() - started) / 1000;
  return { perSecond: ok / seconds, seconds, count, ok, concurrency };
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
