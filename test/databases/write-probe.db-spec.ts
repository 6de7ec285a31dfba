import { DataSource, type DataSourceOptions } from 'typeorm';

import { postbackDataSourceOptions } from '../../src/postback.data-source.js';
import { probeWrite } from '../../src/database/write-probe.js';
import { describeEachDatabase, testDatabases } from '../utils/test-databases.js';

/**
 * The probe that tells a failing database is back must fail wherever a real write would: a
 * connection that only reads (a replica after a failover, a read-only session) is no recovery.
 */
describeEachDatabase(await testDatabases(), (database) => {
  let dataSource: DataSource;
  let drop: () => Promise<void>;

  beforeEach(async () => {
    const created = await database.create();
    drop = created.drop;
    const options = postbackDataSourceOptions({ url: created.url }) as DataSourceOptions & {
      extra?: Record<string, unknown>;
    };
    // One connection, so that the session set below is the probe's.
    const extra =
      options.type === 'postgres'
        ? { ...options.extra, max: 1 }
        : options.type === 'mysql' || options.type === 'mariadb'
          ? { ...options.extra, connectionLimit: 1 }
          : options.extra;
    dataSource = await new DataSource({ ...options, extra } as DataSourceOptions).initialize();
  });
  afterEach(async () => {
    await dataSource?.destroy();
    await drop();
  });

  const readOnly = (on: boolean) => {
    switch (dataSource.options.type) {
      case 'postgres':
        return `SET SESSION CHARACTERISTICS AS TRANSACTION ${on ? 'READ ONLY' : 'READ WRITE'}`;
      case 'mysql':
      case 'mariadb':
        return `SET SESSION TRANSACTION ${on ? 'READ ONLY' : 'READ WRITE'}`;
      default:
        return `PRAGMA query_only = ${on ? 1 : 0}`;
    }
  };

  it('fails on a connection that can only read, and passes once it can write', async () => {
    await expect(probeWrite(dataSource)).resolves.toBeUndefined();
    await dataSource.query(readOnly(true));
    // A read still works there: a probe that only read would call the outage over.
    await expect(dataSource.query('SELECT 1')).resolves.toBeDefined();
    await expect(probeWrite(dataSource)).rejects.toThrow(/read.only|readonly/i);
    await dataSource.query(readOnly(false));
    await expect(probeWrite(dataSource)).resolves.toBeUndefined();
  });
});
