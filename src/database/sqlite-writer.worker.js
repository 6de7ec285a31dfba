// @ts-check
/**
 * The SQLite writer thread (see sqlite-writer-thread.ts): its own better-sqlite3 connection to
 * the database file, running each batch of statements it is sent as one transaction.
 *
 * Plain JavaScript, checked by tsc through the JSDoc types: a worker thread loads its file
 * with Node's own loader, which runs neither TypeScript nor the test runner's transforms, so
 * this file is the one that runs from `src/` in the tests and from `dist/` in the package.
 */
import { parentPort, workerData } from 'node:worker_threads';

import Database from 'better-sqlite3';

/** @typedef {import('./sqlite-writer-thread.js').WriterStatement} WriterStatement */
/** @typedef {import('./sqlite-writer-thread.js').WriterSettings} WriterSettings */

/** Prepared statements kept: the texts vary with batch sizes, but few of them are hot. */
const MAX_PREPARED = 500;

const settings = /** @type {WriterSettings} */ (workerData);
const port = /** @type {import('node:worker_threads').MessagePort} */ (parentPort);

const db = new Database(settings.file, { timeout: settings.busyTimeoutMs });
// The same durability as the main connection: FULL commits survive a power loss here too.
db.pragma(`synchronous = ${settings.synchronous}`);
db.pragma('temp_store = MEMORY');

/** @type {Map<string, import('better-sqlite3').Statement>} */
const prepared = new Map();

/** @param {string} sql */
function statementFor(sql) {
  let statement = prepared.get(sql);
  if (!statement) {
    if (prepared.size >= MAX_PREPARED) prepared.clear();
    statement = db.prepare(sql);
    prepared.set(sql, statement);
  }
  return statement;
}

/**
 * Runs the statements in order in one IMMEDIATE transaction (the write lock is taken at BEGIN,
 * so it never meets a busy snapshot halfway): the rows of those that return rows, the count
 * of changed rows of the others.
 */
const runBatch = db.transaction(
  /** @param {WriterStatement[]} statements */
  (statements) =>
    statements.map(({ sql, values }) => {
      const statement = statementFor(sql);
      // better-sqlite3 binds no booleans: 1 and 0, as TypeORM's own driver sends them.
      const bound = values.map((value) => (typeof value === 'boolean' ? Number(value) : value));
      return statement.reader ? statement.all(bound) : statement.run(bound).changes;
    }),
);

port.on(
  'message',
  /** @param {{ id: number, statements: WriterStatement[] } | { close: true }} message */
  (message) => {
    if ('close' in message) {
      db.close();
      port.close();
      return;
    }
    try {
      // A transaction still open here was left by a failed ROLLBACK: a batch run now would be
      // a savepoint inside it, "committed" by a RELEASE that commits nothing. Roll it back
      // first, and refuse the batch while that fails.
      if (db.inTransaction) db.exec('ROLLBACK');
      const results = runBatch.immediate(message.statements);
      if (db.inTransaction) {
        throw Object.assign(new Error('the commit did not complete, nothing was written'), {
          code: 'SQLITE_IOERR_COMMIT_INCOMPLETE',
        });
      }
      port.postMessage({ id: message.id, results });
    } catch (error) {
      const { message: text, code } = /** @type {Error & { code?: string }} */ (error);
      port.postMessage({ id: message.id, error: { message: text, code } });
    }
  },
);
