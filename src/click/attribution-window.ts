/**
 * How long after a conversion a click may have been captured and still be credited with it:
 * the two times come from different clocks (the shop's `occurredAt`, the capturing server's
 * clock). A click captured later than that came after the conversion and did not lead to it.
 */
export const CLOCK_SKEW_MS = 60_000;

const DAY_MS = 86_400_000;

/** A click's capture times, epoch milliseconds: its first landing and its latest. */
export interface CaptureTimes {
  firstSeenAt: number;
  lastSeenAt: number;
}

/**
 * Why a click cannot be credited with an event at `occurredAt` under a tracker's attribution
 * window, or undefined when it can. The same rule for every way a click is found: the
 * explicit click ID, the session, the visitor key, the customer.
 */
export function notCreditable(
  click: CaptureTimes,
  occurredAt: number,
  windowMs: number,
): string | undefined {
  if (click.firstSeenAt > occurredAt + CLOCK_SKEW_MS) return 'it was captured after the event';
  if (occurredAt - click.lastSeenAt > windowMs) {
    return (
      `it was last captured ${Math.floor((occurredAt - click.lastSeenAt) / DAY_MS)} day(s) ` +
      `before the event, outside the tracker's ${+(windowMs / DAY_MS).toFixed(2)}-day attribution window`
    );
  }
  return undefined;
}
