import pg from 'pg';
import { DataSource } from 'typeorm';

import {
  ClickService,
  Conversion,
  ConversionService,
  Postback,
  type TrackerOptions,
} from '../../src/index.js';
import { startAgent, testTracker, type TestAgent } from '../utils/agent.js';
import { describeEachDatabase, testDatabases } from '../utils/test-databases.js';
import { eventually } from '../utils/wait.js';

const servers = await testDatabases('servers');

const tracker = (): TrackerOptions =>
  testTracker('http://127.0.0.1:9/postback', {
    postback: { url: 'http://127.0.0.1:9/postback?cid={click_id}&event={event_type}' },
    reversals: true,
  });
const purchase = { type: 'purchase', orderId: 'O-1', amount: '80.00', currency: 'EUR' };

/**
 * Every SQL text the data source runs from now on: TypeORM's query runners and the module's
 * own statements both report each one to the data source's logger before sending it.
 */
function recordStatements(dataSource: DataSource): string[] {
  const texts: string[] = [];
  const logger = dataSource.logger;
  const logQuery = logger.logQuery.bind(logger);
  logger.logQuery = (query, ...rest) => {
    texts.push(query);
    return logQuery(query, ...rest);
  };
  return texts;
}

/** Which isolation level each engine's transactions ask for, and which may do without. */
describeEachDatabase(servers, (database) => {
  let agent: TestAgent;
  let drop: () => Promise<void>;

  beforeEach(async () => {
    const scratch = await database.create();
    drop = scratch.drop;
    agent = await startAgent({
      databaseUrl: scratch.url,
      trackers: [tracker()],
      outbox: { enabled: false },
    });
  });
  afterEach(async () => {
    await agent?.app.close();
    await drop();
  });

  it('sets READ COMMITTED where it matters, and spares PostgreSQL the round trip elsewhere', async () => {
    const conversions = agent.app.get(ConversionService);
    const texts = recordStatements(agent.app.get(DataSource));
    const isolation = () => texts.filter((t) => /ISOLATION LEVEL/i.test(t));

    await conversions.record({ ...purchase, clickId: 'C-1' });
    // PostgreSQL: a purchase is correct at any level, so it starts at the server's default.
    // MySQL/MariaDB: READ COMMITTED always, against InnoDB's gap locks.
    expect(isolation()).toHaveLength(database.kind === 'postgres' ? 0 : 1);

    texts.length = 0;
    await conversions.record({ type: 'refund', orderId: 'O-1', amount: '10.00', currency: 'EUR' });
    // A reversal reads the earlier reversals of its order: READ COMMITTED everywhere.
    expect(isolation()).toEqual([expect.stringMatching(/READ COMMITTED/i)]);
  });

  it('records a purchase without BEGIN and COMMIT on PostgreSQL, where its write is one statement', async () => {
    const conversions = agent.app.get(ConversionService);
    const texts = recordStatements(agent.app.get(DataSource));
    const kinds = () => texts.map((t) => t.trim().split(/\s+/)[0].toUpperCase());

    await conversions.record({ ...purchase, clickId: 'C-1' });
    // PostgreSQL: the click look-up, then the conversion and its outbox row in one INSERT
    // (WITH … INSERT), which commits on its own. MySQL/MariaDB: a transaction, as ever.
    expect(kinds()).toEqual(
      database.kind === 'postgres'
        ? ['SELECT', 'WITH']
        : ['SET', 'START', 'SELECT', 'INSERT', 'INSERT', 'COMMIT'],
    );

    // A customer to link is a second write: then both go in one transaction everywhere.
    await agent.app.get(ClickService).capture({ tracker: 'network', clickId: 'C-2' });
    texts.length = 0;
    await conversions.record({ ...purchase, orderId: 'O-2', clickId: 'C-2', customerId: 'K' });
    expect(kinds()).toContain('START');
    expect(kinds().indexOf('START')).toBeLessThan(kinds().indexOf('UPDATE'));
    expect(kinds().at(-1)).toBe('COMMIT');
  });

  it('stores neither the conversion nor its outbox row when the server refuses one of them', async () => {
    const dataSource = agent.app.get(DataSource);
    // Every outbox row is refused from now on; the conversion row itself is fine.
    await dataSource.query(
      'ALTER TABLE postback_outbox ADD CONSTRAINT refuse_all CHECK (attempts < 0)',
    );
    const conversions = agent.app.get(ConversionService);
    await expect(conversions.record({ ...purchase, clickId: 'C-1' })).rejects.toThrow(/refuse_all/);
    expect(await dataSource.getRepository(Conversion).count()).toBe(0);
    expect(await dataSource.getRepository(Postback).count()).toBe(0);
  });
});

/**
 * PostgreSQL configured with REPEATABLE READ as its default: two reversals of one order both
 * wait for the lock on the original, with snapshots taken before the wait. Only READ COMMITTED
 * lets the second see the first once it gets the lock; otherwise both pass the amount check.
 */
describeEachDatabase(
  servers.filter((d) => d.kind === 'postgres'),
  (database) => {
    let agent: TestAgent;
    let drop: () => Promise<void>;
    let admin: pg.Client;
    let url: string;

    beforeEach(async () => {
      const scratch = await database.create();
      ({ url, drop } = scratch);
      admin = new pg.Client({ connectionString: url });
      await admin.connect();
      const name = new URL(url).pathname.slice(1);
      await admin.query(
        `ALTER DATABASE "${name}" SET default_transaction_isolation = 'repeatable read'`,
      );
      agent = await startAgent({
        databaseUrl: url,
        trackers: [tracker()],
        outbox: { enabled: false },
      });
    });
    afterEach(async () => {
      await agent?.app.close();
      await admin.end();
      await drop();
    });

    it('never reverses more than the order when two reversals race', async () => {
      const dataSource = agent.app.get(DataSource);
      const [{ default_transaction_isolation }] = await dataSource.query(
        'SHOW default_transaction_isolation',
      );
      expect(default_transaction_isolation).toBe('repeatable read');
      const conversions = agent.app.get(ConversionService);
      await conversions.record({ ...purchase, clickId: 'C-1' });

      // Hold the original, so that both reversals take their snapshot and then wait for it.
      const holder = new pg.Client({ connectionString: url });
      await holder.connect();
      try {
        await holder.query('BEGIN');
        await holder.query(
          `SELECT id FROM postback_conversions WHERE order_id = 'O-1' AND type = 'purchase' FOR UPDATE`,
        );
        const refund = (reversalId: string) =>
          conversions.record({
            type: 'refund',
            orderId: 'O-1',
            reversalId,
            amount: '50.00',
            currency: 'EUR',
          });
        const outcomes = Promise.allSettled([refund('R-1'), refund('R-2')]);
        await eventually(
          async () => {
            const { rows } = await admin.query(
              `SELECT COUNT(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`,
            );
            return rows[0].n === 2;
          },
          10_000,
          'both reversals waiting for the original',
        );
        await holder.query('COMMIT');
        const settled = await outcomes;
        expect(settled.map((o) => o.status).sort()).toEqual(['fulfilled', 'rejected']);
        const rejected = settled.find((o) => o.status === 'rejected') as PromiseRejectedResult;
        expect(rejected.reason).toMatchObject({ name: 'InvalidInputError' });
      } finally {
        await holder.end();
      }
      const refunds = await dataSource.getRepository(Conversion).findBy({ type: 'refund' });
      expect(refunds.map((r) => r.amount)).toEqual(['50.00']);
    });
  },
);
