import { type DataSource, getMetadataArgsStorage, type MigrationInterface } from 'typeorm';

import { PostbackConfigurationError } from '../errors/postback-configuration.error.js';

/** The module's tables and migrations (POSTBACK_ENTITIES, POSTBACK_MIGRATIONS). */
export interface PostbackSchema {
  entities: readonly Function[];
  migrations: readonly (new () => MigrationInterface)[];
}

/**
 * Why the host's DataSource cannot hold the module's rows, one problem each, none when it can:
 * the entities are registered, their tables exist and the module's migrations have run.
 * Without this check the app starts and every flush fails with TypeORM's "No metadata for
 * Postback" or a missing table, every few seconds, and no postback ever goes out.
 */
export async function postbackSchemaProblems(
  dataSource: DataSource,
  schema: PostbackSchema,
): Promise<string[]> {
  const { entities, migrations } = schema;
  const problems: string[] = [];
  const unregistered = entities.filter((entity) => !dataSource.hasMetadata(entity));
  if (unregistered.length > 0) {
    problems.push(
      `the DataSource has no metadata for ${unregistered.map((e) => e.name).join(', ')}: add POSTBACK_ENTITIES (from nestjs-postback) to its entities, or set autoLoadEntities: true`,
    );
  }

  const runner = dataSource.createQueryRunner();
  try {
    const missing: string[] = [];
    for (const table of entities.map((entity) => tableNameOf(dataSource, entity))) {
      if (!(await runner.hasTable(table))) missing.push(table);
    }
    const fix = `add POSTBACK_MIGRATIONS (from nestjs-postback) to the DataSource's migrations and set migrationsRun: true, or run them with the TypeORM CLI`;
    // Tables made by `synchronize` follow the entities; otherwise only the migrations do, and
    // when some have run, the ones that have not say more than the tables they would make.
    const pending = dataSource.options.synchronize
      ? []
      : await pendingMigrations(dataSource, runner, migrations);
    const none = missing.length === entities.length;
    if (missing.length > 0 && (none || pending.length === 0)) {
      problems.push(`the tables ${missing.join(', ')} do not exist: ${fix}`);
    } else if (pending.length > 0) {
      problems.push(`the module's migrations ${pending.join(', ')} have not run: ${fix}`);
    }
  } finally {
    await runner.release();
  }
  return problems;
}

// The registered entity's name carries the DataSource's entityPrefix; an unregistered one
// (already reported above) is looked for under its declared name.
function tableNameOf(dataSource: DataSource, entity: Function): string {
  if (dataSource.hasMetadata(entity)) return dataSource.getMetadata(entity).tableName;
  const table = getMetadataArgsStorage().tables.find((t) => t.target === entity);
  return table?.name ?? entity.name;
}

/** POSTBACK_MIGRATIONS not recorded in the DataSource's migrations table, as TypeORM keeps it. */
async function pendingMigrations(
  dataSource: DataSource,
  runner: ReturnType<DataSource['createQueryRunner']>,
  migrations: PostbackSchema['migrations'],
): Promise<string[]> {
  const names = migrations.map((migration) => migration.name);
  const { driver } = dataSource;
  const tableName = dataSource.options.migrationsTableName ?? 'migrations';
  const schema = (driver.options as { schema?: string }).schema;
  const table = driver.buildTableName(tableName, schema, driver.database);
  if (!(await runner.hasTable(table))) return names;
  const rows: { name: string }[] = await dataSource
    .createQueryBuilder(runner)
    .select(driver.escape('name'), 'name')
    .from(table, tableName)
    .getRawMany();
  const done = new Set(rows.map((row) => row.name));
  return names.filter((name) => !done.has(name));
}

/** Refuses to start on a DataSource that cannot hold the module's rows, saying what to add. */
export async function assertPostbackSchema(
  dataSource: DataSource,
  schema: PostbackSchema,
): Promise<void> {
  const problems = await postbackSchemaProblems(dataSource, schema);
  if (problems.length > 0) throw new PostbackConfigurationError(problems);
}
