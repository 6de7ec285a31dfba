import type { ValueTransformer } from 'typeorm';

/**
 * Times are stored as epoch milliseconds in BIGINT columns: one type that sorts, indexes and
 * compares the same on SQLite, PostgreSQL and MySQL/MariaDB, with no time-zone conversion in
 * any driver. PostgreSQL and MySQL hand BIGINT back as a string; this turns it into a number
 * (epoch milliseconds stay far below 2^53).
 */
export const epochMillis: ValueTransformer = {
  to: (value: number | null | undefined) => value,
  from: (value: string | number | null) => (value === null ? null : Number(value)),
};

/** JSON kept in a TEXT column, so the same entity works on every engine. */
export const jsonText: ValueTransformer = {
  to: (value: unknown) => (value === undefined || value === null ? null : JSON.stringify(value)),
  from: (value: string | null) => (value === null ? null : JSON.parse(value)),
};
