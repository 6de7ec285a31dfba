import { Logger } from '@nestjs/common';

import type { DatabaseUnavailableError } from '../errors/database-unavailable.error.js';

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
 * An incident is logged once, when it starts (or, within a minute of the last such line, at its
 * first failure after that minute), with its reason, and once when it ends: not a stack trace
 * per refused request.
 */
export class DatabaseWriteHealth {
  private readonly logger = new Logger(DatabaseWriteHealth.name);
  private current?: DatabaseFailure & { logged: boolean };
  private lastLogged = Number.NEGATIVE_INFINITY;
  /** Incidents that ended before their line could be logged, since the last line. */
  private heldBack = 0;

  // Wall time, not the module's clock: tests move that one by days.
  constructor(private readonly now: () => number = Date.now) {}

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
    } else {
      this.current = {
        reason: error.reason,
        since: this.now(),
        refused: 1,
        retryAfterSeconds: error.retryAfterSeconds,
        logged: false,
      };
    }
    // An incident that starts within the interval of the last line is logged on a later
    // failure, once the interval has passed: a long outage is never silent.
    if (!this.current.logged) this.logIncident(this.current);
  }

  succeeded(): void {
    const current = this.current;
    if (!current) return;
    this.current = undefined;
    if (!current.logged) {
      this.heldBack++;
      return;
    }
    const seconds = Math.round((this.now() - current.since) / 1000);
    this.logger.log(
      `The database takes writes again, after ${seconds} s; ${current.refused} unit(s) of work were refused meanwhile.`,
    );
  }

  private logIncident(current: DatabaseFailure & { logged: boolean }): void {
    const now = this.now();
    if (now - this.lastLogged < INCIDENT_LOG_INTERVAL_MS) return;
    this.lastLogged = now;
    current.logged = true;
    const heldBack = this.heldBack;
    this.heldBack = 0;
    const late =
      current.refused > 1
        ? ` It started ${Math.round((now - current.since) / 1000)} s ago; ${current.refused} unit(s) of work refused so far.`
        : '';
    this.logger.error(
      `The database cannot take writes: ${current.reason}. Events and clicks are refused ` +
        `(503, Retry-After) until a write succeeds; nothing refused was acknowledged.` +
        late +
        (heldBack > 0 ? ` (${heldBack} shorter incident(s) since the last such line.)` : ''),
    );
  }
}
