/** A unique-index violation, on any of the supported engines. */
export function isUniqueViolation(error: unknown): boolean {
  const driverError = (error as { driverError?: { code?: string; errno?: number } })?.driverError;
  const code = driverError?.code ?? (error as { code?: string })?.code;
  return (
    code === 'SQLITE_CONSTRAINT_UNIQUE' ||
    code === 'SQLITE_CONSTRAINT_PRIMARYKEY' ||
    code === '23505' ||
    code === 'ER_DUP_ENTRY' ||
    driverError?.errno === 1062
  );
}

/**
 * The server refused a value (too long, NULL where none may be, not valid in the column's
 * character set, a constraint): the row is at fault, not the database, and writing it again
 * fails again. Anything else (connection lost, disk full, locks) may pass on a later try.
 */
export function isRefusedValue(error: unknown): boolean {
  const driverError = (error as { driverError?: { code?: string; errno?: number } })?.driverError;
  const code = String(driverError?.code ?? (error as { code?: string })?.code ?? '');
  const errno = driverError?.errno ?? (error as { errno?: number })?.errno;
  return (
    code.startsWith('SQLITE_CONSTRAINT') ||
    code === 'SQLITE_MISMATCH' ||
    code === 'SQLITE_TOOBIG' ||
    /^2[23][0-9A-Z]{3}$/.test(code) || // PostgreSQL classes 22 (data exception), 23 (integrity)
    (errno !== undefined && MYSQL_REFUSED_VALUE.has(errno))
  );
}

/** Bad NULL, duplicate, out of range, incorrect value, incorrect string, too long, CHECK. */
const MYSQL_REFUSED_VALUE = new Set([1048, 1062, 1264, 1292, 1366, 1406, 3819, 4025]);
