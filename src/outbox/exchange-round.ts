import type { Clock } from '../common/clock.js';
import type { ClaimCursor } from './claim-cursor.js';
import type { ClaimedPostback, Settlement } from './claimed-postback.js';
import type { DueQuery } from './outbox.sql.js';
import type { SendingMarks } from './send-marks.js';
import { groupSettlements } from './settlements.js';

/**
 * Most settlements a steady round writes (see `steadyRoundOf`): on PostgreSQL about 20 bound
 * values each, far from its limit of 65,535 per statement.
 */
const MAX_STEADY_ROUND = 1_000;

/** What an exchange answers: the rows claimed, and the settlements whose claim was lost. */
export interface ExchangeResult {
  claimed: ClaimedPostback[];
  lost: Settlement[];
}

/** A round of the flusher's steady state (see `steadyRoundOf`). */
export interface SteadyRound {
  finished: Settlement[];
  /** `finished`, all deliveries, grouped by what their UPDATE writes. */
  delivered: Settlement[][];
  now: number;
  /** The claim riding along, if any: pending rows only. */
  claim?: DueQuery;
}

/**
 * How an engine writes a steady round in one go (one statement on PostgreSQL, one batch on
 * SQLite's writer thread); chosen once by `OutboxStore`. Other rounds, and every round where
 * there is neither, are a plain transaction (`TransactionRound`).
 */
export interface ExchangeRound {
  run(round: SteadyRound, marks?: SendingMarks): Promise<ExchangeResult>;
}

/**
 * The flusher's steady state, which PostgreSQL writes in one statement and a SQLite writer
 * thread in one batch: every settlement a delivery, no more than one statement's rows, no
 * sweep due (a sweep counts expired leases as attempts first). Undefined otherwise, for the
 * transaction's way.
 */
export function steadyRoundOf(
  finished: Settlement[],
  claim: { limit: number; skipTrackers?: string[] } | undefined,
  clock: Clock,
  cursor: ClaimCursor,
): SteadyRound | undefined {
  if (finished.length > MAX_STEADY_ROUND) return undefined;
  const { delivered, others } = groupSettlements(finished);
  if (others.length > 0) return undefined;
  const now = clock.now();
  const claiming = claim !== undefined && claim.limit > 0;
  if (claiming && cursor.sweepDue(now)) return undefined;
  if (!claiming) return { finished, delivered, now };
  const skip = claim.skipTrackers ?? [];
  const due: DueQuery = {
    state: 'pending',
    now,
    limit: claim.limit,
    skip,
    from: cursor.range(now, skip, false).from,
  };
  return { finished, delivered, now, claim: due };
}
