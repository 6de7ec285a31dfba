import type { ClickService, ExtractedClick } from './click.service.js';
import type { LandingQueryReader } from './landing-query.js';

export interface LandingClicks {
  /** None or one: a landing credits one tracker. */
  clicks: ExtractedClick[];
  /** Why anything in the landing was left out, for the caller to log or answer. */
  problems: readonly string[];
}

const NONE: LandingClicks = Object.freeze({ clicks: [], problems: Object.freeze([]) });

/**
 * The click a landing brings, read from its request target (path and query) — the one rule
 * for the capture middleware and the agent's `POST /v1/clicks`, so the same landing URL is
 * decoded the same way and credits the same tracker in both.
 *
 * When the parameters of several trackers arrive in one landing, the first tracker in
 * configuration order whose click ID is valid takes it, and the others are reported as
 * ignored. One landing is one visit that a partner is paid for once: capturing a click per
 * tracker would let each tracker's click compete for the same conversion (or, with a
 * later change of rules, be paid twice); the configuration order is the merchant's priority.
 */
export function landingClicks(
  target: string,
  reader: LandingQueryReader,
  clicks: ClickService,
): LandingClicks {
  const query = reader.read(target); // only the parameters the trackers name
  if (query === undefined) return NONE;
  const found = clicks.extract(query);
  if (found.clicks.length <= 1) return found;
  const [chosen, ...others] = found.clicks;
  return {
    clicks: [chosen],
    problems: [
      ...found.problems,
      ...others.map(
        (other) =>
          `the click ID of tracker "${other.tracker}" was ignored: a landing credits one ` +
          `tracker, the first configured of those it has a click ID for ("${chosen.tracker}")`,
      ),
    ],
  };
}
