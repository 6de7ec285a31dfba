// Minimal typings for the parts of better-sqlite3 the bench uses (no @types package installed).
declare module 'better-sqlite3' {
  namespace Database {
    interface Statement {
      run(...params: unknown[]): { changes: number; lastInsertRowid: number | bigint };
      get(...params: unknown[]): unknown;
      all(...params: unknown[]): unknown[];
    }
    interface Database {
      prepare(sql: string): Statement;
      pragma(source: string, options?: { simple?: boolean }): unknown;
      exec(sql: string): this;
      transaction<A extends unknown[], R>(fn: (...args: A) => R): (...args: A) => R;
      close(): void;
    }
  }
  interface DatabaseConstructor {
    new (filename: string, options?: { readonly?: boolean; timeout?: number }): Database.Database;
  }
  const Database: DatabaseConstructor;
  export default Database;
}
