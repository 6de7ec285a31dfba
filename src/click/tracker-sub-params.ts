import { SUB_PARAM_MAX_LENGTH } from '../postback.constants.js';
import type { ResolvedTracker } from '../options/resolved-options.js';
import { textProblem } from '../common/text.js';

/**
 * The sub-parameters of `tracker` in `source` (a landing query, or the sub-parameters given
 * with a click ID): only the names the tracker configures in `subParams`, wherever the click
 * comes from, so the middleware and `POST /v1/clicks` store the same. A configured one whose
 * value is unsafe is left out and handed to `onProblem`.
 */
export function trackerSubParams(
  tracker: ResolvedTracker,
  source: Readonly<Record<string, unknown>>,
  onProblem: (name: string, problem: string) => void,
): Record<string, string> {
  const sub: Record<string, string> = {};
  for (const name of tracker.subParams) {
    if (!Object.hasOwn(source, name)) continue;
    const value = source[name];
    if (value === undefined) continue;
    const problem = textProblem(value, SUB_PARAM_MAX_LENGTH);
    if (problem) onProblem(name, problem);
    else sub[name] = value as string;
  }
  return sub;
}
