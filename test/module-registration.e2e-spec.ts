import { Controller, Get, Injectable, Module, Req } from '@nestjs/common';
import { EventEmitter2, EventEmitterModule } from '@nestjs/event-emitter';
import { ScheduleModule } from '@nestjs/schedule';
import { Test } from '@nestjs/testing';
import { TypeOrmModule } from '@nestjs/typeorm';
import type { Request } from 'express';
import session from 'express-session';
import request from 'supertest';

import {
  Click,
  ClickService,
  ConversionService,
  type PostbackModuleOptions,
  PostbackModule,
  PostbackConfigurationError,
  SESSION_CLICKS_KEY,
} from '../src/index.js';
import { postbackDataSourceOptions } from '../src/postback.data-source.js';
import { PostbackDatabase } from '../src/database/postback-database.js';
import { FakeTracker } from '../src/testing/index.js';
import { startShopApp } from './fixtures/shop-app.js';
import { tempDir } from './utils/sqlite.js';
import { eventually } from './utils/wait.js';

const options = (trackerUrl: string): PostbackModuleOptions => ({
  trackers: [
    {
      name: 'net',
      clickParams: ['cid', 'clickid'],
      subParams: ['aff'],
      postback: { url: `${trackerUrl}?c={click_id}&o={order_id}` },
    },
  ],
  outbox: { flushIntervalMs: 50 },
});

describe('PostbackModule registration', () => {
  let tracker: FakeTracker;
  let dir: ReturnType<typeof tempDir>;

  beforeEach(async () => {
    tracker = await new FakeTracker().start();
    dir = tempDir();
  });
  afterEach(async () => {
    await tracker.stop();
    dir.remove();
  });

  describe.each([
    ['forRoot', false],
    ['forRootAsync (useFactory)', true],
  ])('%s', (_name, async) => {
    it('captures a landing click into the session and the database, then posts the purchase', async () => {
      const app = await startShopApp({
        databaseUrl: `sqlite:${dir.path}/reg.sqlite`,
        options: options(tracker.url()),
        async,
      });
      try {
        const visitor = request.agent(app.getHttpServer());
        await visitor.get('/landing?clickid=CK-1&aff=partner-9').expect(200, 'welcome');
        const db = app.get(PostbackDatabase);
        const click = await eventually(() =>
          db.run((m) => m.findOneBy(Click, { clickId: 'CK-1' })),
        );
        expect(click).toMatchObject({
          tracker: 'net',
          landingPath: '/landing',
          subParams: { aff: 'partner-9' },
        });
        expect(click.visitorKey).not.toBe('');

        const result = await visitor
          .post('/checkout')
          .send({ orderId: 'O-1', amount: '9.99', currency: 'USD' })
          .expect(200);
        expect(result.body).toMatchObject({ attribution: 'session', queued: true });
        const [received] = await tracker.waitForRequests(1);
        expect(received.url).toBe('/postback?c=CK-1&o=O-1');
      } finally {
        await app.close();
      }
    });
  });

  it('forRootAsync with useClass builds the options from a factory class', async () => {
    const url = tracker.url();
    @Injectable()
    class OptionsFactory {
      create(): PostbackModuleOptions {
        return options(url);
      }
    }
    const moduleRef = await Test.createTestingModule({
      imports: [
        TypeOrmModule.forRoot(
          postbackDataSourceOptions({ url: `sqlite:${dir.path}/class.sqlite` }),
        ),
        ScheduleModule.forRoot(),
        PostbackModule.forRootAsync({ useClass: OptionsFactory as never }),
      ],
    }).compile();
    // ConfigurableModuleBuilder calls create() on the class; check it resolved to our tracker.
    const app = moduleRef.createNestApplication({ logger: false });
    await app.init();
    try {
      const click = await app.get(ClickService).capture({ tracker: 'net', clickId: 'from-class' });
      expect(click.tracker).toBe('net');
    } finally {
      await app.close();
    }
  });

  it('never breaks the landing page: a refused click ID is logged and the page still answers', async () => {
    const app = await startShopApp({
      databaseUrl: `sqlite:${dir.path}/bad.sqlite`,
      options: options(tracker.url()),
    });
    try {
      const db = app.get(PostbackDatabase);
      await request(app.getHttpServer())
        .get('/landing')
        .query({ cid: 'bad\u0000id' })
        .expect(200, 'welcome');
      await request(app.getHttpServer())
        .get('/landing')
        .query({ cid: 'x'.repeat(10_000) })
        .expect(200, 'welcome');
      await request(app.getHttpServer()).get('/landing?cid=a&cid=b').expect(200, 'welcome');
      await request(app.getHttpServer()).get('/landing?cid=ok-1').expect(200, 'welcome');
      await eventually(() => db.run((m) => m.findOneBy(Click, { clickId: 'ok-1' })));
      expect(await db.run((m) => m.count(Click))).toBe(1);
    } finally {
      await app.close();
    }
  });

  it('captures on every GET by default, pages no route serves included, never from a POST', async () => {
    const app = await startShopApp({
      databaseUrl: `sqlite:${dir.path}/routes.sqlite`,
      options: options(tracker.url()),
    });
    try {
      const db = app.get(PostbackDatabase);
      await request(app.getHttpServer()).post('/register?cid=posted').send({ customerId: 'c-1' });
      await request(app.getHttpServer()).get('/no-such-page?cid=lost-page').expect(404);
      await request(app.getHttpServer()).get('/landing?cid=landed').expect(200, 'welcome');
      // Written in landing order: once the last is stored, the others were written or dropped.
      await eventually(() => db.run((m) => m.findOneBy(Click, { clickId: 'landed' })));
      const stored = await db.run((m) => m.find(Click, { order: { clickId: 'ASC' } }));
      expect(stored.map((click) => click.clickId)).toEqual(['landed', 'lost-page']);
    } finally {
      await app.close();
    }
  });

  it('leaves out the routes in capture.exclude', async () => {
    const app = await startShopApp({
      databaseUrl: `sqlite:${dir.path}/exclude.sqlite`,
      options: { ...options(tracker.url()), capture: { exclude: ['landing'] } },
    });
    try {
      const db = app.get(PostbackDatabase);
      await request(app.getHttpServer()).get('/landing?cid=excluded').expect(200, 'welcome');
      await request(app.getHttpServer()).get('/elsewhere?cid=kept').expect(404);
      await eventually(() => db.run((m) => m.findOneBy(Click, { clickId: 'kept' })));
      expect(await db.run((m) => m.findOneBy(Click, { clickId: 'excluded' }))).toBeNull();
    } finally {
      await app.close();
    }
  });

  it('keeps one row per click and visitor however often they land, refreshing last seen', async () => {
    let now = 1_800_000_000_000;
    const app = await startShopApp({
      databaseUrl: `sqlite:${dir.path}/dup.sqlite`,
      options: { ...options(tracker.url()), clock: () => now },
    });
    try {
      const db = app.get(PostbackDatabase);
      const visitor = request.agent(app.getHttpServer());
      await visitor.get('/landing?cid=same&aff=first').expect(200);
      await eventually(() => db.run((m) => m.findOneBy(Click, { clickId: 'same' })));
      now += 60_000;
      await visitor.get('/landing?cid=same').expect(200);
      await visitor.get('/landing?cid=same').expect(200);
      const click = await eventually(async () => {
        const row = await db.run((m) => m.findOneByOrFail(Click, { clickId: 'same' }));
        return row.lastSeenAt === now ? row : undefined;
      });
      expect(await db.run((m) => m.count(Click))).toBe(1);
      expect(click.firstSeenAt).toBe(now - 60_000);
      expect(click.subParams).toEqual({ aff: 'first' }); // a landing without it does not erase it
    } finally {
      await app.close();
    }
  });

  it('records events emitted through @nestjs/event-emitter and hands back the result', async () => {
    @Controller()
    class SessionProbe {
      @Get('session')
      read(@Req() req: Request & { session: Record<string, unknown> }) {
        return req.session[SESSION_CLICKS_KEY] ?? null;
      }
    }
    @Module({ controllers: [SessionProbe] })
    class ProbeModule {}
    const moduleRef = await Test.createTestingModule({
      imports: [
        TypeOrmModule.forRoot(
          postbackDataSourceOptions({ url: `sqlite:${dir.path}/events.sqlite` }),
        ),
        ScheduleModule.forRoot(),
        EventEmitterModule.forRoot(),
        PostbackModule.forRoot(options(tracker.url())),
        ProbeModule,
      ],
    }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    app.use(session({ secret: 'x', resave: false, saveUninitialized: false }));
    await app.init();
    try {
      const visitor = request.agent(app.getHttpServer());
      await visitor.get('/session?cid=EV-1').expect(200);
      const stored = await visitor.get('/session').expect(200);
      expect(stored.body).toEqual([{ tracker: 'net', clickId: 'EV-1', at: expect.any(Number) }]);

      const emitter = app.get(EventEmitter2);
      const [result] = await emitter.emitAsync('postback.purchase', {
        orderId: 'EV-ORDER',
        amount: '12.00',
        currency: 'EUR',
        session: { [SESSION_CLICKS_KEY]: stored.body },
      });
      expect(result).toMatchObject({ attributed: true, attribution: 'session', queued: true });
      await expect(emitter.emitAsync('postback.purchase', { amount: '-1' })).rejects.toThrow(
        /orderId/,
      );
      const [received] = await tracker.waitForRequests(1);
      expect(received.url).toBe('/postback?c=EV-1&o=EV-ORDER');
      expect(app.get(ConversionService)).toBeDefined();
    } finally {
      await app.close();
    }
  });

  it('refuses to start with a template that would send a literal or unknown macro', async () => {
    const broken = options(tracker.url());
    broken.trackers[0].postback = { url: `${tracker.url()}?c={click_id}&p={payuot}` };
    // In memory: the DataSource may still be opening when the start fails.
    await expect(startShopApp({ databaseUrl: ':memory:', options: broken })).rejects.toThrow(
      PostbackConfigurationError,
    );
    await expect(
      startShopApp({ databaseUrl: ':memory:', options: broken, async: true }),
    ).rejects.toThrow(/unknown macro \{payuot\}/);
  });
});
