import { DatabaseUnavailableError } from '../errors/database-unavailable.error.js';
import { safeErrorText, safeStack } from './safe-error-text.js';

/**
 * Where TypeORM and the drivers put the statement and its values on an error: TypeORM's
 * `query` and `parameters`, mysql2's `sql` and `sqlMessage`, node-postgres's `detail`
 * ("Key (order_id)=(…) already exists"), `where` and `internalQuery`.
 */
const STATEMENT_FIELDS = [
  'query',
  'parameters',
  'sql',
  'sqlMessage',
  'detail',
  'where',
  'internalQuery',
  'driverError',
] as const;

/**
 * `error` as the module may rethrow it: nothing in it that a host's logger prints (Nest's own
 * handler inspects the whole object, cause included) holds the statement or its values.
 * TypeORM's QueryFailedError carries `query` and `parameters` (order IDs, session keys);
 * mysql2 puts the statement with its values in `sql`; some messages quote a value. Those
 * fields stay readable, not enumerable, so callers still classify the error by its code.
 */
export function withoutStatement(error: unknown): unknown {
  if (!(error instanceof Error)) return error;
  if (error instanceof DatabaseUnavailableError) {
    if (error.cause !== undefined) {
      Object.defineProperty(error, 'cause', {
        value: safeCause(error.cause),
        enumerable: false,
        configurable: true,
        writable: true,
      });
    }
    return error;
  }
  if (!STATEMENT_FIELDS.some((field) => Object.hasOwn(error, field))) return error;
  const message = safeErrorText(error);
  const stack = safeStack(error);
  hideStatement(error);
  hideStatement((error as { driverError?: unknown }).driverError);
  Object.defineProperty(error, 'message', { value: message, configurable: true, writable: true });
  if (stack)
    Object.defineProperty(error, 'stack', { value: stack, configurable: true, writable: true });
  return error;
}

/** The driver's failure reduced to its code and safe text, as a DatabaseUnavailableError's cause. */
function safeCause(cause: unknown): Error {
  const driverError = (cause as { driverError?: { code?: unknown } })?.driverError;
  const code = driverError?.code ?? (cause as { code?: unknown })?.code;
  const safe = new Error(safeErrorText(cause));
  safe.name = (cause as Error)?.name ?? 'Error';
  const stack = safeStack(cause);
  if (stack) safe.stack = stack;
  return typeof code === 'string' ? Object.assign(safe, { code }) : safe;
}

function hideStatement(target: unknown): void {
  if (!target || typeof target !== 'object') return;
  for (const field of STATEMENT_FIELDS) {
    if (!Object.hasOwn(target, field)) continue;
    Object.defineProperty(target, field, { enumerable: false });
  }
}
