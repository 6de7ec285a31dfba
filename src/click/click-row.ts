import { uuidV7 } from '../common/uuid-v7.js';
import { LANDING_PATH_MAX_LENGTH } from '../postback.constants.js';
import type { Click } from './click.entity.js';
import type { ExtractedClick } from './landing-clicks.js';
import type { VisitorDigest } from './visitor-keys.js';

/** What a click row is built from, validated already. */
export interface ClickRowInput {
  tracker: string;
  clickId: string;
  customerId?: string;
  landingPath?: string;
  subParams?: Record<string, string> | null;
}

/** The row of a click as of `now`; '' for no visitor, a cut landing path, no empty sub-parameters. */
export function clickRow(input: ClickRowInput, visitor: VisitorDigest | null, now: number): Click {
  return {
    id: uuidV7(),
    tracker: input.tracker,
    clickId: input.clickId,
    visitorKey: visitor ?? '',
    customerId: input.customerId ?? null,
    landingPath: (input.landingPath ?? '').slice(0, LANDING_PATH_MAX_LENGTH),
    subParams: input.subParams && Object.keys(input.subParams).length ? input.subParams : null,
    firstSeenAt: now,
    lastSeenAt: now,
  };
}

/**
 * `clickRow` for a click found in a landing query, without building an input object first:
 * this runs on every landing.
 */
export function landingClickRow(
  click: ExtractedClick,
  visitor: VisitorDigest | null,
  customerId: string | undefined,
  landingPath: string,
  now: number,
): Click {
  return {
    id: uuidV7(now),
    tracker: click.tracker,
    clickId: click.clickId,
    visitorKey: visitor ?? '',
    customerId: customerId ?? null,
    landingPath:
      landingPath.length > LANDING_PATH_MAX_LENGTH
        ? landingPath.slice(0, LANDING_PATH_MAX_LENGTH)
        : landingPath,
    subParams: click.subParams && hasKeys(click.subParams) ? click.subParams : null,
    firstSeenAt: now,
    lastSeenAt: now,
  };
}

function hasKeys(object: Record<string, string>): boolean {
  for (const _ in object) return true;
  return false;
}
