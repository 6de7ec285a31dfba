import type { DataSourceOptions } from 'typeorm';

/** The `prepareDatabase` hooks of `postbackDataSourceOptions()`: they mark a dedicated database. */
const dedicated = new WeakSet<object>();

/** Marks a `prepareDatabase` hook as one of a database the module owns. */
export function markDedicated(hook: object): void {
  dedicated.add(hook);
}

/**
 * Whether a DataSource was built from `postbackDataSourceOptions()`: a database the module
 * owns, which nothing else writes to (see `PostbackModuleOptions.sqliteWriterThread`).
 */
export function isDedicatedPostbackDatabase(options: DataSourceOptions): boolean {
  const hook = (options as { prepareDatabase?: object }).prepareDatabase;
  return hook !== undefined && dedicated.has(hook);
}
