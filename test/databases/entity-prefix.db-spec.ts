import type { INestApplication } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
import { Test } from '@nestjs/testing';
import { TypeOrmModule } from '@nestjs/typeorm';

import {
  Click,
  ClickService,
  Conversion,
  ConversionService,
  Postback,
  PostbackModule,
} from '../../src/index.js';
import { ClickWriteBuffer } from '../../src/click/click-write-buffer.js';
import { rememberSessionClick } from '../../src/click/session-clicks.js';
import { postbackDataSourceOptions } from '../../src/postback.data-source.js';
import { PostbackDatabase } from '../../src/database/postback-database.js';
import { describeEachDatabase, testDatabases } from '../utils/test-databases.js';

const PREFIX = 'shop_';

/**
 * A host whose DataSource has an `entityPrefix` keeps the module's rows in its prefixed tables:
 * every statement of capture, attribution and reversals names the table as the DataSource
 * does. The tables come from `synchronize` (the module's migrations name them unprefixed).
 */
describeEachDatabase(await testDatabases(), (database) => {
  let app: INestApplication;
  let drop: () => Promise<void>;

  beforeAll(async () => {
    const created = await database.create();
    drop = created.drop;
    const moduleRef = await Test.createTestingModule({
      imports: [
        TypeOrmModule.forRoot({
          ...postbackDataSourceOptions({ url: created.url }),
          migrations: [],
          migrationsRun: false,
          synchronize: true,
          entityPrefix: PREFIX,
          retryAttempts: 0,
        }),
        ScheduleModule.forRoot(),
        PostbackModule.forRoot({
          trackers: [
            {
              name: 'net',
              clickParams: ['cid'],
              subParams: ['sub1'],
              postback: { url: 'http://127.0.0.1:9/pb?c={click_id}&s={sub.sub1}&e={event_type}' },
              commission: { purchase: { percent: '10' } },
              reversals: true,
            },
          ],
          outbox: { enabled: false },
        }),
      ],
    }).compile();
    app = moduleRef.createNestApplication({ logger: ['error'] });
    await app.init();
  });
  afterAll(async () => {
    await app?.close();
    await drop?.();
  });

  const db = () => app.get(PostbackDatabase);
  const clicks = () => app.get(ClickService);
  const record = (event: Parameters<ConversionService['record']>[0]) =>
    app.get(ConversionService).record(event);
  const subOf = async (conversionId: string) =>
    (await db().run((m) => m.findOneByOrFail(Postback, { conversionId }))).fields?.sub;

  it('keeps its rows in the prefixed tables only', async () => {
    const names = (entity: object) => db().dataSource.getMetadata(entity as never).tableName;
    expect([Click, Conversion, Postback].map(names)).toEqual([
      'shop_postback_clicks',
      'shop_postback_conversions',
      'shop_postback_outbox',
    ]);
    const runner = db().dataSource.createQueryRunner();
    try {
      expect(await runner.hasTable('postback_clicks')).toBe(false);
    } finally {
      await runner.release();
    }
  });

  it('attributes by an explicit click ID to a captured click', async () => {
    await clicks().capture({ tracker: 'net', clickId: 'EXPLICIT', subParams: { sub1: 'x' } });
    const result = await record({
      type: 'purchase',
      orderId: 'O-explicit',
      amount: '10.00',
      currency: 'EUR',
      clickId: 'EXPLICIT',
    });
    expect(result).toMatchObject({ attribution: 'click_id', tracker: 'net', queued: true });
    expect(await subOf(result.conversionId)).toEqual({ sub1: 'x' });
  });

  it('attributes by the visitor of a landing the capture buffer wrote', async () => {
    const row = clicks().landingRow(
      { tracker: 'net', clickId: 'LANDED', subParams: { sub1: 'landed' } },
      'visitor-buffer',
      undefined,
      '/landing',
    );
    expect(app.get(ClickWriteBuffer).add(row)).toBe(true);
    const result = await record({
      type: 'purchase',
      orderId: 'O-landed',
      amount: '10.00',
      currency: 'EUR',
      sessionKey: 'visitor-buffer',
    });
    expect(result).toMatchObject({ attribution: 'session', tracker: 'net', queued: true });
    expect(await subOf(result.conversionId)).toEqual({ sub1: 'landed' });
  });

  it("takes the session's click with this visitor's own row of it", async () => {
    for (const [visitorKey, sub1] of [
      ['visitor-a', 'a'],
      ['visitor-b', 'b'],
    ]) {
      await clicks().capture({
        tracker: 'net',
        clickId: 'SHARED',
        visitorKey,
        subParams: { sub1 },
      });
    }
    const session = {};
    rememberSessionClick(session, { tracker: 'net', clickId: 'SHARED', at: Date.now() });
    const result = await record({
      type: 'purchase',
      orderId: 'O-shared',
      amount: '10.00',
      currency: 'EUR',
      session,
      sessionKey: 'visitor-a',
    });
    expect(result).toMatchObject({ attribution: 'session', queued: true });
    expect(await subOf(result.conversionId)).toEqual({ sub1: 'a' });
  });

  it("links a registration's clicks to the customer and attributes their later purchase", async () => {
    await clicks().capture({ tracker: 'net', clickId: 'CUSTOMER', visitorKey: 'visitor-c' });
    const registration = await record({
      type: 'registration',
      customerId: 'cust-1',
      sessionKey: 'visitor-c',
    });
    expect(registration.attribution).toBe('session');
    const linked = await db().run((m) => m.findOneByOrFail(Click, { clickId: 'CUSTOMER' }));
    expect(linked.customerId).toBe('cust-1');
    // Another device: no session, no visitor key, only the customer.
    const purchase = await record({
      type: 'purchase',
      orderId: 'O-customer',
      amount: '50.00',
      currency: 'EUR',
      customerId: 'cust-1',
    });
    expect(purchase).toMatchObject({ attribution: 'customer', tracker: 'net', queued: true });
  });

  it("reverses an order in part, then what is left, behind the original's postback", async () => {
    await clicks().capture({ tracker: 'net', clickId: 'REFUNDED' });
    const sale = await record({
      type: 'purchase',
      orderId: 'O-refunded',
      amount: '50.00',
      currency: 'EUR',
      clickId: 'REFUNDED',
    });
    const refund = await record({
      type: 'refund',
      orderId: 'O-refunded',
      reversalId: 'R-1',
      amount: '20.00',
      currency: 'EUR',
    });
    expect(refund).toMatchObject({ commission: { amount: '2.00', currency: 'EUR' } });
    const rest = await record({ type: 'chargeback', orderId: 'O-refunded' });
    expect(rest).toMatchObject({ commission: { amount: '3.00', currency: 'EUR' }, queued: true });
    const stored = await db().run((m) => m.findOneByOrFail(Conversion, { id: rest.conversionId }));
    expect(stored.amount).toBe('30.00');
    const postback = await db().run((m) => m.findOneByOrFail(Postback, { id: rest.postbackId }));
    expect(postback.afterPostbackId).toBe(sale.postbackId);
  });
});
