import { InvalidInputError } from '../errors/invalid-input.error.js';

/**
 * How far ahead of the module's clock an event's `occurredAt` may be: enough for the shop's
 * and this server's clocks to differ a little, too little for a wrong date or time zone.
 */
export const FUTURE_TOLERANCE_MS = 5 * 60_000;

/**
 * Refuses an event said to happen later than now (plus the tolerance): it would be
 * attributed to clicks that do not exist yet and reported with a time still to come.
 */
export function refuseFutureEvent(occurredAt: number | undefined, now: number): void {
  if (occurredAt === undefined || occurredAt <= now + FUTURE_TOLERANCE_MS) return;
  const ahead = occurredAt - now;
  const by =
    ahead < 3_600_000
      ? `${Math.ceil(ahead / 60_000)} minutes`
      : `${Math.round((ahead / 3_600_000) * 10) / 10} hours`;
  throw new InvalidInputError({
    occurredAt: [
      `occurredAt is ${by} in the future (${new Date(occurredAt).toISOString()}, now ${new Date(now).toISOString()}); at most ${FUTURE_TOLERANCE_MS / 60_000} minutes ahead are accepted: check its date and time zone`,
    ],
  });
}
