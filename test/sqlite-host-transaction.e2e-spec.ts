import { type DynamicModule, type INestApplication, Module } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
import { Test } from '@nestjs/testing';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';

import {
  ConversionService,
  POSTBACK_ENTITIES,
  POSTBACK_MIGRATIONS,
  PostbackModule,
} from '../src/index.js';
import { tempDir } from './utils/sqlite.js';
import { sleep } from './utils/wait.js';

/**
 * The module on a SQLite DataSource the host shares (the README's example): TypeORM runs both
 * on one connection, so a unit of the module's started while a transaction of the host's is
 * open would run inside it. An event acknowledged there would vanish with the host's rollback.
 */
describe('a host transaction open on the shared SQLite connection', () => {
  let dir: ReturnType<typeof tempDir>;
  let app: INestApplication;

  function hostModule(): DynamicModule {
    @Module({})
    class HostModule {}
    return {
      module: HostModule,
      imports: [
        TypeOrmModule.forRoot({
          type: 'better-sqlite3',
          database: `${dir.path}/shop.sqlite`,
          enableWAL: true,
          entities: [...POSTBACK_ENTITIES],
          migrations: [...POSTBACK_MIGRATIONS],
          migrationsRun: true,
          retryAttempts: 0,
        }),
        ScheduleModule.forRoot(),
        PostbackModule.forRoot({
          trackers: [
            {
              name: 'net',
              clickParams: ['cid'],
              postback: { url: 'http://127.0.0.1:9/pb?c={click_id}' },
            },
          ],
          outbox: { enabled: false },
        }),
      ],
    };
  }

  beforeEach(async () => {
    dir = tempDir();
    const moduleRef = await Test.createTestingModule({ imports: [hostModule()] }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.init();
  });
  afterEach(async () => {
    await app.close();
    dir.remove();
  });

  it('closes with the host’s app without an error, though the host’s DataSource closes first', async () => {
    // Nest shuts the host's TypeOrmModule down before this module (both are global: the
    // order of their registration decides), so the module's last job finds the connection
    // closed. Nest 11 rejects close() with a hook's error, Nest 12 logs it.
    const errors: unknown[] = [];
    const quiet = () => undefined;
    app.useLogger({ log: quiet, warn: quiet, error: (message) => errors.push(message) });
    await app.get(ConversionService).record({
      type: 'purchase',
      orderId: 'O-close',
      amount: '1',
      currency: 'EUR',
      customerId: 'c',
    });
    await app.close();
    expect(errors).toEqual([]);
  });

  it('records an event only after the host’s transaction ended, so its rollback cannot take it', async () => {
    const dataSource = app.get(DataSource);
    let endHostTransaction!: () => void;
    const hostMayEnd = new Promise<void>((resolve) => (endHostTransaction = resolve));
    // The host's transaction: a write, then an await (an HTTP call, say), then a rollback.
    const host = dataSource
      .transaction(async (manager) => {
        await manager.query('CREATE TABLE shop_orders (id TEXT)');
        await hostMayEnd;
        throw new Error('the host rolls back');
      })
      .catch(() => undefined);
    await sleep(20); // the host's BEGIN has run

    let acknowledged = false;
    const recorded = app
      .get(ConversionService)
      .record({
        type: 'purchase',
        orderId: 'O-host',
        amount: '10.00',
        currency: 'EUR',
        customerId: 'c',
      })
      .then(() => (acknowledged = true));
    await sleep(200);
    expect(acknowledged).toBe(false); // not while the host's transaction could still roll it back

    endHostTransaction();
    await host;
    await recorded;
    const rows = await dataSource.query(
      `SELECT order_id FROM postback_conversions WHERE order_id = 'O-host'`,
    );
    expect(rows).toHaveLength(1);
  });
});
