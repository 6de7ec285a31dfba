import { DIALECTS } from './dialect/dialect-of.js';

/** A unique-index violation, on any of the supported engines (see `SqlDialect`). */
export function isUniqueViolation(error: unknown): boolean {
  return DIALECTS.some((dialect) => dialect.isUniqueViolation(error));
}

/**
 * The server refused a value (too long, NULL where none may be, not valid in the column's
 * character set, a constraint): the row is at fault, not the database, and writing it again
 * fails again. Anything else (connection lost, disk full, locks) may pass on a later try.
 */
export function isRefusedValue(error: unknown): boolean {
  return DIALECTS.some((dialect) => dialect.isRefusedValue(error));
}
