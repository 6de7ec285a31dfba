import {
  type INestApplication,
  type LoggerService,
  type MiddlewareConsumer,
  Module,
  type NestModule,
} from '@nestjs/common';
import { Test } from '@nestjs/testing';
import session from 'express-session';
import request from 'supertest';

import { shopAppModule } from './fixtures/shop-app.js';
import { tempDir } from './utils/sqlite.js';

/** express-session mounted the way that does not work: through Nest's MiddlewareConsumer. */
@Module({})
class SessionThroughConsumerModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    consumer
      .apply(session({ secret: 'test-session-secret', resave: false, saveUninitialized: false }))
      .forRoutes('*path');
  }
}

class RecordingLogger implements LoggerService {
  readonly warnings: string[] = [];
  log(): void {}
  error(): void {}
  warn(message: unknown): void {
    this.warnings.push(String(message));
  }
}

describe('click capture without a session or a visitor key', () => {
  let dir: ReturnType<typeof tempDir>;
  let app: INestApplication;
  let logger: RecordingLogger;

  const boot = async (sessionThroughConsumer: boolean) => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        shopAppModule({
          databaseUrl: `sqlite:${dir.path}/shop.sqlite`,
          options: {
            trackers: [
              { name: 'net', clickParams: ['cid'], postback: { url: 'http://127.0.0.1:9/pb' } },
            ],
          },
        }),
        ...(sessionThroughConsumer ? [SessionThroughConsumerModule] : []),
      ],
    }).compile();
    logger = new RecordingLogger();
    app = moduleRef.createNestApplication({ logger });
    if (!sessionThroughConsumer) {
      app.use(session({ secret: 'test-session-secret', resave: false, saveUninitialized: false }));
    }
    await app.init();
  };
  const land = async (times: number) => {
    for (let i = 0; i < times; i++) {
      await request(app.getHttpServer()).get(`/landing?cid=CLICK-${i}`).expect(200, 'welcome');
    }
  };
  const aboutSessions = () => logger.warnings.filter((w) => w.includes('no req.session'));

  beforeEach(() => (dir = tempDir()));
  afterEach(async () => {
    await app.close();
    dir.remove();
  });

  it('warns once, naming the fix, when express-session is mounted through MiddlewareConsumer', async () => {
    await boot(true);
    await land(4);
    expect(aboutSessions()).toEqual([
      expect.stringMatching(
        /^A click of tracker "net" was captured with no req\.session and no visitor key: .*Mount express-session with app\.use\(\) before app\.init\(\) or app\.listen\(\), not through a MiddlewareConsumer .*capture\.visitorKey/,
      ),
    ]);
  });

  it('says nothing when express-session is mounted with app.use() before start', async () => {
    await boot(false);
    await land(2);
    expect(aboutSessions()).toEqual([]);
  });
});
