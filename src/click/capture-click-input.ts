import { textProblem } from '../common/text.js';
import { InvalidInputError } from '../errors/invalid-input.error.js';
import { NOT_A_TRACKER } from '../errors/messages.js';
import type { ResolvedTracker } from '../options/resolved-options.js';
import { clickIdProblem } from './click-id.validator.js';
import { trackerSubParams } from './tracker-sub-params.js';

/** @publicApi */
export interface CaptureClickInput {
  tracker: string;
  /** Exactly as the tracker sent it (already URL-decoded once, as every query parser does). */
  clickId: string;
  /**
   * Session ID or other visitor key; later events of this visitor find the click by it.
   * Stored as its digest (see `visitorKeyDigest`), never in clear.
   */
  visitorKey?: string;
  customerId?: string;
  landingPath?: string;
  subParams?: Record<string, string> | null;
}

/**
 * Checks a click for `ClickService.capture()` against its tracker (undefined: not configured)
 * and returns the sub-parameters to store: only the tracker's own, as from a landing. Throws
 * `InvalidInputError` with every problem.
 */
export function checkCaptureInput(
  input: CaptureClickInput,
  tracker: ResolvedTracker | undefined,
): Record<string, string> | null {
  const fields: Record<string, string[]> = {};
  let subParams: Record<string, string> | null = null;
  if (!tracker) {
    fields.tracker = [NOT_A_TRACKER(input.tracker)];
  } else {
    const problem = clickIdProblem(input.clickId, tracker);
    if (problem) fields.clickId = [problem];
    subParams = trackerSubParams(tracker, input.subParams ?? {}, (name, problem) => {
      fields[`subParams.${name}`] = [problem];
    });
  }
  const customerProblem = customerIdProblem(input.customerId);
  if (customerProblem) fields.customerId = [customerProblem];
  // As record()'s sessionKey: a lone surrogate would turn into U+FFFD on its way to the
  // database, and two visitors' keys into one.
  if (input.visitorKey) {
    const problem = textProblem(input.visitorKey, 1024);
    if (problem) fields.visitorKey = [problem];
  }
  if (Object.keys(fields).length > 0) throw new InvalidInputError(fields);
  return subParams;
}

/** Why a customer ID given with a click cannot be stored; none given is fine. */
export function customerIdProblem(customerId: string | undefined): string | undefined {
  return customerId === undefined ? undefined : textProblem(customerId, 255);
}
