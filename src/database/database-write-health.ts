import { Logger } from '@nestjs/common';

import { LogThrottle } from '../common/log-throttle.js';
import type { DatabaseUnavailableError } from './database-unavailable.error.js';

/** At most one "cannot take writes" line this often, however often the database flaps. */
const INCIDENT_LOG_INTERVAL_MS = 60_000;

export interface DatabaseFailure {
  reason: string;
  /** When the first write of this incident failed (epoch ms, wall time). */
  since: number;
  /** Units of work refused since. */
  refused: number;
  retryAfterSeconds: number;
}

/**
 * Whether the database takes writes, as the module's own writes found it: failing from the
 * first write refused for an outage (a full disk, an I/O error, a lost server) until a write
 * succeeds again. Reads alone do not clear it: on a full disk they go on working.
 *
 * An incident is logged once, when it starts, with its reason, and once when it ends: not a
 * stack trace per refused request.
 */
export class DatabaseWriteHealth {
  private readonly logger = new Logger('PostbackDatabase');
  private readonly incidents = new LogThrottle(INCIDENT_LOG_INTERVAL_MS);
  private current?: DatabaseFailure & { logged: boolean };

  /** The incident under way, if writes are failing. */
  get failure(): DatabaseFailure | undefined {
    if (!this.current) return undefined;
    const { logged: _, ...failure } = this.current;
    return failure;
  }

  failed(error: DatabaseUnavailableError): void {
    if (this.current) {
      this.current.refused++;
      this.current.reason = error.reason;
      return;
    }
    this.current = {
      reason: error.reason,
      since: Date.now(),
      refused: 1,
      retryAfterSeconds: error.retryAfterSeconds,
      logged: false,
    };
    const current = this.current;
    this.incidents.log((heldBack) => {
      current.logged = true;
      this.logger.error(
        `The database cannot take writes: ${error.reason}. Events and clicks are refused ` +
          `(503, Retry-After) until a write succeeds; nothing refused was acknowledged.` +
          (heldBack > 0 ? ` (${heldBack} shorter incident(s) since the last such line.)` : ''),
      );
    });
  }

  succeeded(): void {
    const current = this.current;
    if (!current) return;
    this.current = undefined;
    if (!current.logged) return;
    const seconds = Math.round((Date.now() - current.since) / 1000);
    this.logger.log(
      `The database takes writes again, after ${seconds} s; ${current.refused} unit(s) of work were refused meanwhile.`,
    );
  }
}
