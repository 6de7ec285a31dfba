import { ConfigurableModuleBuilder, type DynamicModule } from '@nestjs/common';
import { getDataSourceToken, TypeOrmModule } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';

import { isDedicatedPostbackDatabase } from './database/dedicated-database.js';
import { PostbackDatabase } from './database/postback-database.js';
import { POSTBACK_ENTITIES, POSTBACK_MIGRATIONS } from './postback.schema.js';
import { assertPostbackSchema } from './database/postback-schema-check.js';
import { assertSupportedEngine } from './database/supported-engines.js';
import type { PostbackModuleOptions } from './interfaces/index.js';

/** Registration-time settings that cannot wait for async options. */
export interface PostbackModuleExtras {
  /** Register the module's services for the whole app. @default true */
  isGlobal?: boolean;
  /** Name of the host's TypeORM DataSource holding the postback tables. @default the default DataSource */
  dataSource?: string;
}

export const {
  ConfigurableModuleClass,
  MODULE_OPTIONS_TOKEN: POSTBACK_MODULE_OPTIONS,
  OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<PostbackModuleOptions>({ moduleName: 'Postback' })
  .setClassMethodName('forRoot')
  // Every extra is listed, `dataSource` too: Nest leaves the keys of this object out of the
  // options, and the options refuse keys they do not know.
  .setExtras<PostbackModuleExtras>(
    { isGlobal: true, dataSource: undefined },
    (definition, extras): DynamicModule => ({
      ...definition,
      global: extras.isGlobal ?? true,
      imports: [
        ...(definition.imports ?? []),
        // Registers the entities with the host's DataSource (and its autoLoadEntities).
        TypeOrmModule.forFeature(POSTBACK_ENTITIES, extras.dataSource),
      ],
      providers: [
        ...(definition.providers ?? []),
        {
          provide: PostbackDatabase,
          useFactory: async (dataSource: DataSource, options: PostbackModuleOptions) => {
            await assertSupportedEngine(dataSource);
            await assertPostbackSchema(dataSource, {
              entities: POSTBACK_ENTITIES,
              migrations: POSTBACK_MIGRATIONS,
            });
            return new PostbackDatabase(dataSource, {
              sqliteWriterThread:
                options.sqliteWriterThread ?? isDedicatedPostbackDatabase(dataSource.options),
            });
          },
          inject: [getDataSourceToken(extras.dataSource), POSTBACK_MODULE_OPTIONS],
        },
      ],
      exports: [...(definition.exports ?? []), PostbackDatabase],
    }),
  )
  .build();
