import { DatabaseUnavailableError } from '../errors/database-unavailable.error.js';

/**
 * Tells a database that cannot work now (full, failing disk, locked, unreachable, restarting)
 * from one that refused this statement: the first is worth trying again later, and its caller
 * gets 503 + Retry-After; the second is a bug or a bad value, and trying again changes nothing.
 *
 * The reason is a fixed phrase with the driver's code, never the driver's message: messages
 * can quote the values of the statement (MySQL's "Duplicate entry '…'"), and the reason is
 * logged and sent to callers.
 */
export function unavailableReason(error: unknown): string | undefined {
  if (error instanceof DatabaseUnavailableError) return error.reason;
  const driverError = (error as { driverError?: DriverError })?.driverError;
  for (const candidate of [driverError, error as DriverError, (error as Error)?.cause]) {
    const reason = reasonOf(candidate as DriverError | undefined);
    if (reason) return reason;
  }
  return undefined;
}

/** `error` as a DatabaseUnavailableError (the original as its cause) if it is one; else itself. */
export function asUnavailable(error: unknown): unknown {
  if (error instanceof DatabaseUnavailableError) return error;
  const reason = unavailableReason(error);
  return reason === undefined
    ? error
    : new DatabaseUnavailableError(reason, undefined, { cause: error });
}

interface DriverError {
  code?: unknown;
  errno?: unknown;
  message?: unknown;
}

function reasonOf(error: DriverError | undefined): string | undefined {
  if (!error || typeof error !== 'object') return undefined;
  const code = typeof error.code === 'string' ? error.code : undefined;
  if (code) {
    const sqlite = /^SQLITE_(FULL|IOERR|BUSY|LOCKED|CANTOPEN|READONLY|NOMEM|PROTOCOL|NOLFS)/.exec(
      code,
    );
    if (sqlite) return `${SQLITE_REASONS[sqlite[1]]} (${code})`;
    if (NETWORK_CODES.has(code)) return `the database server cannot be reached (${code})`;
    if (MYSQL_CODES[code]) return `${MYSQL_CODES[code]} (${code})`;
    // PostgreSQL SQLSTATE classes: 08 connection exception, 53 insufficient resources,
    // 57 operator intervention (57P01 admin shutdown, 57P03 cannot connect now), 58 system error.
    if (/^(08|53|57P|58)[0-9A-Z]{2,3}$/.test(code) || code === '55P03' || code === '57014') {
      return `${PG_REASONS[code.slice(0, 2)] ?? 'the database server cannot take the statement now'} (SQLSTATE ${code})`;
    }
    if (PG_CODES[code]) return `${PG_CODES[code]} (SQLSTATE ${code})`;
  }
  // mysql2 always sets the code; the errno alone is what other MySQL clients give.
  const mysqlCode = typeof error.errno === 'number' ? MYSQL_ERRNOS[error.errno] : undefined;
  if (!code && mysqlCode) return `${MYSQL_CODES[mysqlCode]} (${mysqlCode})`;
  const message = typeof error.message === 'string' ? error.message : '';
  // 55000 is "not in prerequisite state" in general; with this message, a database closed to
  // connections (ALTER DATABASE … ALLOW_CONNECTIONS false, a drop or restore under way).
  if (code === '55000' && /not currently accepting connections/.test(message)) {
    return 'the database is not accepting connections (SQLSTATE 55000)';
  }
  // node-postgres loses connections without a code.
  if (
    /Connection terminated|connection timeout|timeout exceeded when trying to connect/i.test(
      message,
    )
  ) {
    return 'the connection to the database server was lost';
  }
  if (/Pool is closed|Can't add new command when connection is in closed state/i.test(message)) {
    return 'the connection to the database server was lost';
  }
  return undefined;
}

const SQLITE_REASONS: Record<string, string> = {
  FULL: 'the database or its disk is full',
  IOERR: 'the disk failed to read or write the database',
  BUSY: 'another connection holds the database lock',
  LOCKED: 'another connection holds the database lock',
  CANTOPEN: 'the database file cannot be opened',
  READONLY: 'the database is read-only',
  NOMEM: 'SQLite is out of memory',
  PROTOCOL: 'the database lock protocol failed',
  NOLFS: 'the database file is too large for this file system',
};

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

const MYSQL_CODES: Record<string, string> = {
  PROTOCOL_CONNECTION_LOST: 'the connection to the database server was lost',
  PROTOCOL_SEQUENCE_TIMEOUT: 'the database server did not answer',
  ER_CON_COUNT_ERROR: 'the database server has no connection free',
  ER_LOCK_WAIT_TIMEOUT: 'a lock on the rows was held too long by another transaction',
  ER_SERVER_SHUTDOWN: 'the database server is shutting down',
  ER_QUERY_INTERRUPTED: 'the statement was interrupted by the server',
  ER_CONNECTION_KILLED: 'the connection was killed on the server',
  ER_RECORD_FILE_FULL: 'the table is full',
  ER_DISK_FULL: 'the database server disk is full',
  ER_OUT_OF_RESOURCES: 'the database server is out of memory',
  // --read-only or --super-read-only: a replica, or a primary demoted by a failover.
  ER_OPTION_PREVENTS_STATEMENT: 'the database server is read-only',
  // Still a deadlock after PostbackDatabase's retries: contention, worth a later try.
  ER_LOCK_DEADLOCK: 'the transaction kept meeting deadlocks with concurrent ones',
};

const MYSQL_ERRNOS: Record<number, string> = {
  1205: 'ER_LOCK_WAIT_TIMEOUT',
  1213: 'ER_LOCK_DEADLOCK',
  1290: 'ER_OPTION_PREVENTS_STATEMENT',
};

const PG_CODES: Record<string, string> = {
  // read_only_sql_transaction: a standby, or a primary demoted by a failover.
  '25006': 'the database server is read-only',
  // Still failing after PostbackDatabase's retries: contention, worth a later try.
  '40P01': 'the transaction kept meeting deadlocks with concurrent ones',
  '40001': 'the transaction kept failing to serialize with concurrent ones',
};

const PG_REASONS: Record<string, string> = {
  '08': 'the connection to the database server failed',
  '53': 'the database server is out of resources (disk, memory or connections)',
  '57': 'the database server stopped or refused the statement',
  '58': 'the database server had a system error',
  '55': 'a lock on the rows was not available in time',
};
