import { DatabaseUnavailableError } from '../errors/database-unavailable.error.js';

/**
 * An error as a log line may show it: its message with the values a database quoted in it
 * taken out, and its driver code. TypeORM's QueryFailedError carries the statement and its
 * parameters (session keys, click IDs, order IDs), and MySQL and PostgreSQL quote the
 * offending value in some messages ("Duplicate entry 'C-1…'", `for type integer: "…"`); none
 * of that belongs in a log.
 */
export function safeErrorText(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  if (error instanceof DatabaseUnavailableError) return error.message;
  const driverError = (error as { driverError?: { code?: unknown } }).driverError;
  const code = driverError?.code ?? (error as { code?: unknown }).code;
  const text = error.message
    .replace(/\b(entry|value:?) '(?:[^'\\]|\\.)*'/gi, "$1 '…'")
    .replace(/(for type [\w ]+: )"(?:[^"]|"")*"/gi, '$1"…"');
  return typeof code === 'string' && !text.includes(code) ? `${text} (${code})` : text;
}

/** The stack's frames without its first line, which repeats the message unredacted. */
export function safeStack(error: unknown): string | undefined {
  const stack = (error as Error)?.stack;
  if (!stack) return undefined;
  const frames = stack.split('\n').filter((line) => /^\s+at /.test(line));
  return [`${(error as Error).name}: ${safeErrorText(error)}`, ...frames].join('\n');
}

/**
 * Whether a failed unit of work still needs a log line: not when the database is down, which
 * the module logs once per outage (DatabaseWriteHealth), not once per failed round.
 */
export function worthLogging(error: unknown): boolean {
  return !(error instanceof DatabaseUnavailableError);
}

/**
 * Logs `context: <the error's safe text>` (with its safe stack if asked), unless the database
 * is down: that is logged once per outage, not once per failed round.
 */
export function logDatabaseError(
  logger: { error(message: string, stack?: string): void },
  context: string,
  error: unknown,
  withStack = false,
): void {
  if (!worthLogging(error)) return;
  logger.error(`${context}: ${safeErrorText(error)}`, withStack ? safeStack(error) : undefined);
}
