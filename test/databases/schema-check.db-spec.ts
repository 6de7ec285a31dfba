import { ScheduleModule } from '@nestjs/schedule';
import { Test } from '@nestjs/testing';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource, type DataSourceOptions } from 'typeorm';

import {
  POSTBACK_ENTITIES,
  POSTBACK_MIGRATIONS,
  PostbackConfigurationError,
  PostbackModule,
} from '../../src/index.js';
import { postbackDataSourceOptions } from '../../src/postback.data-source.js';
import { postbackSchemaProblems } from '../../src/database/postback-schema-check.js';
import { describeEachDatabase, testDatabases } from '../utils/test-databases.js';

const POSTBACK_SCHEMA = { entities: POSTBACK_ENTITIES, migrations: POSTBACK_MIGRATIONS };

const TRACKER = {
  name: 'net',
  clickParams: ['cid'],
  postback: { url: 'https://tracker.example/pb?c={click_id}' },
};

/**
 * A host DataSource without the module's entities or migrations stops the start, saying which
 * export to add, rather than starting and failing every flush with "No metadata for Postback".
 */
describeEachDatabase(await testDatabases(), (database) => {
  let url: string;
  let drop: () => Promise<void>;
  beforeEach(async () => ({ url, drop } = await database.create()));
  afterEach(() => drop());

  /** The host's own DataSource options: the module's, less what `overrides` takes away. */
  const hostOptions = (overrides: Partial<DataSourceOptions>) =>
    ({ ...postbackDataSourceOptions({ url }), ...overrides }) as DataSourceOptions;

  async function startError(overrides: Partial<DataSourceOptions>): Promise<unknown> {
    let dataSource: DataSource | undefined;
    try {
      const moduleRef = await Test.createTestingModule({
        imports: [
          TypeOrmModule.forRootAsync({
            useFactory: () => ({ ...hostOptions(overrides), retryAttempts: 0 }),
            // Kept, to be closed: a failed start would leave it open and the run would not end.
            dataSourceFactory: async (options) =>
              (dataSource = await new DataSource(options!).initialize()),
          }),
          ScheduleModule.forRoot(),
          PostbackModule.forRoot({ trackers: [TRACKER], outbox: { enabled: false } }),
        ],
      }).compile();
      const app = moduleRef.createNestApplication({ logger: false });
      await app.init();
      await app.close();
      return undefined;
    } catch (error) {
      return error;
    } finally {
      if (dataSource?.isInitialized) await dataSource.destroy();
    }
  }

  it('names POSTBACK_ENTITIES and POSTBACK_MIGRATIONS when the DataSource has neither', async () => {
    const error = await startError({ entities: [], migrations: [], migrationsRun: false });
    expect(error).toBeInstanceOf(PostbackConfigurationError);
    expect((error as PostbackConfigurationError).problems).toEqual([
      'the DataSource has no metadata for Click, Conversion, Postback, DeliveryAttempt, PostbackMeta: add POSTBACK_ENTITIES (from nestjs-postback) to its entities, or set autoLoadEntities: true',
      expect.stringMatching(
        /^the tables postback_clicks, postback_conversions, postback_outbox, postback_attempts, postback_meta do not exist: add POSTBACK_MIGRATIONS \(from nestjs-postback\) to the DataSource's migrations and set migrationsRun: true/,
      ),
    ]);
  });

  it('names POSTBACK_MIGRATIONS when the entities are there but the tables are not', async () => {
    const error = await startError({ migrations: [], migrationsRun: false });
    expect((error as PostbackConfigurationError).problems).toEqual([
      expect.stringMatching(/^the tables .* do not exist: add POSTBACK_MIGRATIONS/),
    ]);
  });

  it('names the migrations that have not run when the tables are there', async () => {
    const first = new DataSource({ ...hostOptions({}), migrations: [POSTBACK_MIGRATIONS[0]] });
    await first.initialize();
    try {
      expect(await postbackSchemaProblems(first, POSTBACK_SCHEMA)).toEqual([
        expect.stringMatching(
          new RegExp(
            `^the module's migrations ${POSTBACK_MIGRATIONS.slice(1)
              .map((m) => m.name)
              .join(', ')} have not run: add POSTBACK_MIGRATIONS`,
          ),
        ),
      ]);
    } finally {
      await first.destroy();
    }
  });

  it('finds nothing wrong with the entities and every migration run', async () => {
    const host = new DataSource(hostOptions({ entities: POSTBACK_ENTITIES }));
    await host.initialize();
    try {
      expect(await postbackSchemaProblems(host, POSTBACK_SCHEMA)).toEqual([]);
    } finally {
      await host.destroy();
    }
    expect(await startError({})).toBeUndefined();
  });

  it('starts on a DataSource that builds the tables with synchronize', async () => {
    // The host's own choice: no migrations, the tables made from POSTBACK_ENTITIES. The module
    // keeps facts of its own at start-up (see VisitorKeyCheck): their table is an entity too.
    expect(
      await startError({ entities: POSTBACK_ENTITIES, synchronize: true, migrations: [] }),
    ).toBeUndefined();
  });
});
