import { Logger } from '@nestjs/common';
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

const logger = new Logger('PostbackDatabase');

/**
 * JSON kept in a TEXT column, so the same entity works on every engine. Text edited by hand or
 * damaged reads as null, with a warning (never the text), rather than failing every read of
 * its row: the event is still recorded, the outbox row still listed (and dead-lettered by the
 * flusher with "cannot build the postback").
 */
export const jsonText: ValueTransformer = {
  to: (value: unknown) => (value === undefined || value === null ? null : JSON.stringify(value)),
  from: (value: string | null) => {
    if (value === null) return null;
    try {
      return JSON.parse(value) as unknown;
    } catch {
      logger.warn(
        `A JSON column holds ${value.length} characters that do not parse; read as empty`,
      );
      return null;
    }
  },
};
