import type { ResolvedTracker } from '../options/resolved-options.js';
import { clickIdProblem } from './click-id.validator.js';
import type { LandingQueryReader } from './landing-query.js';
import { trackerSubParams } from './tracker-sub-params.js';

/** A click found in a landing URL's query, already validated. */
export interface ExtractedClick {
  tracker: string;
  clickId: string;
  /** The tracker's sub-parameters the query had; null when none. */
  subParams: Record<string, string> | null;
}

export interface LandingClicks {
  /** None or one: a landing credits one tracker. */
  clicks: ExtractedClick[];
  /**
   * What in the landing was left out and why, each saying what became of it, for the caller
   * to log or answer.
   */
  problems: readonly string[];
}

const NO_PROBLEMS: readonly string[] = Object.freeze([]);
const NONE: LandingClicks = Object.freeze({ clicks: [], problems: NO_PROBLEMS });

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
 * Trackers after the one chosen are not validated: only their presence is reported.
 */
export function landingClicks(
  target: string,
  reader: LandingQueryReader,
  trackers: Iterable<ResolvedTracker>,
): LandingClicks {
  const spaced = reader.read(target); // only the parameters the trackers name
  // Read again, `+` kept, only when some tracker asks for it (landingPlusAsSpace: false).
  const literalPlus = reader.readsLiteralPlus ? reader.read(target, false) : undefined;
  if (spaced === undefined && literalPlus === undefined) return NONE;
  let chosen: ExtractedClick | undefined;
  // Allocated on the first problem only: every landing comes here.
  let problems: string[] | undefined;
  for (const tracker of trackers) {
    const query = tracker.landingPlusAsSpace ? spaced : literalPlus;
    if (query === undefined) continue;
    let param: string | undefined;
    for (const name of tracker.clickParams) {
      if (query[name] !== undefined) {
        param = name;
        break;
      }
    }
    if (param === undefined) continue;
    if (chosen) {
      (problems ??= []).push(
        `the click ID of tracker "${tracker.name}" was ignored: a landing credits one ` +
          `tracker, the first configured of those it has a valid click ID for ("${chosen.tracker}")`,
      );
      continue;
    }
    const value = query[param];
    const problem = clickIdProblem(value, tracker);
    if (problem) {
      (problems ??= []).push(`click ID in "${param}" ${problem}; not captured`);
      continue;
    }
    chosen = {
      tracker: tracker.name,
      clickId: value as string,
      subParams: tracker.subParams.length
        ? trackerSubParams(tracker, query, (name, problem) =>
            (problems ??= []).push(`sub-parameter "${name}" ${problem}; left out`),
          )
        : null,
    };
  }
  if (!chosen) return problems ? { clicks: [], problems } : NONE;
  return { clicks: [chosen], problems: problems ?? NO_PROBLEMS };
}
