/**
 * Child process, figure 1: a small shop-like Nest app with PostbackModule.forRoot, TypeORM on
 * SQLite (better-sqlite3) in a temp dir, ScheduleModule, and one GET route `/landing`.
 * `--capture=on` registers the click-capture middleware (the module's default), `--capture=off`
 * is the baseline: the same app and route with `capture.enabled: false`. `--writerThread=off`
 * writes the clicks on the event loop's connection, as a host's shared DataSource does (the
 * lock figure).
 */
import 'reflect-metadata';

import Database from 'better-sqlite3';
import { Controller, Get, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ScheduleModule } from '@nestjs/schedule';
import { TypeOrmModule } from '@nestjs/typeorm';

import { ClickWriteBuffer } from '../../src/click/click-write-buffer.js';
import { postbackDataSourceOptions } from '../../src/postback.data-source.js';
import { PostbackModule } from '../../src/index.js';
import { benchTracker } from '../lib/tracker.js';
import { args, fail, sqliteSynchronous } from './child.js';
import { appDir, nestOptions, serve } from './server.js';

@Controller()
class LandingController {
  @Get('landing')
  landing(): string {
    return '<!doctype html><title>Shop</title><h1>Welcome</h1>';
  }
}

async function main(): Promise<void> {
  const { capture = 'on', receiver = 'http://127.0.0.1:9', writerThread } = args();
  const file = `${appDir(`landing-${capture}`)}/shop.sqlite`;

  @Module({
    imports: [
      TypeOrmModule.forRoot(
        postbackDataSourceOptions({
          url: `sqlite:${file}`,
          sqliteSynchronous: sqliteSynchronous(),
        }),
      ),
      ScheduleModule.forRoot(),
      PostbackModule.forRoot({
        trackers: [benchTracker(receiver)],
        capture: { enabled: capture === 'on' },
        outbox: { flushIntervalMs: 3_600_000 },
        ...(writerThread === 'off' && { sqliteWriterThread: false }),
      }),
    ],
    controllers: [LandingController],
  })
  class ShopModule {}

  const app = await NestFactory.create(ShopModule, nestOptions);
  await serve(app, {
    ready: { file },
    async stop() {
      let pendingAtStop = 0;
      if (capture === 'on') {
        pendingAtStop = app.get(ClickWriteBuffer, { strict: false }).pending;
      }
      const closing = Date.now();
      await app.close(); // writes the clicks still buffered
      const closeMs = Date.now() - closing;
      const db = new Database(file, { readonly: true });
      const { n } = db.prepare('SELECT COUNT(*) AS n FROM postback_clicks').get() as { n: number };
      db.close();
      return { clicksStored: n, clickWritesPendingAtStop: pendingAtStop, shutdownMs: closeMs };
    },
  });
}

main().catch(fail);
