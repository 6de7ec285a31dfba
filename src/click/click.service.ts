import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

import type { Clock } from '../common/clock.js';
import { InvalidInputError } from '../errors/invalid-input.error.js';
import { POSTBACK_CLOCK, POSTBACK_RESOLVED_OPTIONS } from '../postback.constants.js';
import type { ResolvedPostbackOptions } from '../options/resolved-options.js';
import { CLOCK_SKEW_MS } from './attribution-window.js';
import {
  type CaptureClickInput,
  checkCaptureInput,
  customerIdProblem,
} from './capture-click-input.js';
import type { Click } from './click.entity.js';
import { ClickRepository } from './click.repository.js';
import { clickRow, landingClickRow } from './click-row.js';
import type { LookupTracker } from './click.sql.js';
import { ClickWriteBuffer } from './click-write-buffer.js';
import { type VisitorDigest, VisitorKeys } from './visitor-keys.js';
import type { ExtractedClick } from './landing-clicks.js';

export type { CaptureClickInput } from './capture-click-input.js';

/**
 * Stores click IDs and finds them again for attribution. Validation happens here, so a click
 * forwarded through the agent's API and one captured by the middleware obey the same rules.
 */
@Injectable()
export class ClickService {
  private allTrackers?: LookupTracker[];

  constructor(
    private readonly clicks: ClickRepository,
    private readonly buffer: ClickWriteBuffer,
    @Inject(POSTBACK_RESOLVED_OPTIONS) private readonly options: ResolvedPostbackOptions,
    @Inject(POSTBACK_CLOCK) private readonly clock: Clock,
    /** What a visitor key is stored as; conversions store the same. */
    readonly visitorKeys: VisitorKeys,
  ) {}

  /** Validates and stores a click; a repeated landing only refreshes `lastSeenAt`. */
  async capture(input: CaptureClickInput): Promise<Click> {
    return this.clicks.store(this.prepare(input));
  }

  /** `capture()` for several clicks, refused at once when the database cannot take them now. */
  take(inputs: CaptureClickInput[]): Promise<Click[]> {
    const rows = inputs.map((input) => this.prepare(input));
    return this.clicks.storeAtOnce(rows);
  }

  /**
   * Validates a click and builds its row, as of now, for `capture()` or the capture buffer.
   * Throws `InvalidInputError` with every problem.
   */
  prepare(input: CaptureClickInput): Click {
    const subParams = checkCaptureInput(input, this.options.trackers.get(input.tracker));
    const visitor = this.visitorKeys.digest(input.visitorKey);
    return clickRow({ ...input, subParams }, visitor, this.clock.now());
  }

  /**
   * The row of a click `extract()` found in a landing query. That click is valid already;
   * only the customer ID, which the host's `capture.customerId` gives, is checked here.
   */
  landingRow(
    click: ExtractedClick,
    visitorKey: string | undefined,
    customerId: string | undefined,
    landingPath: string,
  ): Click {
    const problem = customerIdProblem(customerId);
    if (problem) throw new InvalidInputError({ customerId: [problem] });
    const now = this.clock.now();
    return landingClickRow(
      click,
      this.visitorKeys.digest(visitorKey),
      customerId,
      landingPath,
      now,
    );
  }

  /**
   * Writes the clicks the capture middleware still holds in memory, so attribution, which
   * reads clicks from the database, sees a landing of a moment ago. Cheap when none wait.
   */
  flushPending(): Promise<void> {
    return this.buffer.flushNow();
  }

  /**
   * A click with this ID of this tracker or, without one, of any configured tracker (a click
   * of a tracker no longer configured cannot be attributed anyway): the most recently seen;
   * with `occurredAt`, one creditable with an event at that time if any (see ClickSql.byClickId).
   */
  findByClickId(
    manager: EntityManager,
    clickId: string,
    tracker?: string,
    occurredAt?: number,
  ): Promise<Click | null> {
    return this.clicks.findByClickId(
      manager,
      clickId,
      tracker ? [this.lookupTracker(tracker)] : (this.allTrackers ??= this.lookupTrackers()),
      occurredAt === undefined ? undefined : { occurredAt, skewMs: CLOCK_SKEW_MS },
    );
  }

  /** The row of this click for this visitor, if they landed with it. */
  findForVisitor(
    manager: EntityManager,
    clickId: string,
    tracker: string,
    visitor: VisitorDigest,
  ): Promise<Click | null> {
    return this.clicks.findForVisitor(manager, clickId, tracker, visitor);
  }

  /** Recent clicks of a visitor or a customer, newest first, for attribution to choose from. */
  findRecent(
    manager: EntityManager,
    by: { visitor: VisitorDigest } | { customerId: string },
    since: number,
    firstSeenBy: number,
  ): Promise<Click[]> {
    return this.clicks.findRecent(manager, by, since, firstSeenBy);
  }

  /**
   * Links a visitor's clicks (and one chosen click) that have no customer yet to a customer.
   * Pass the chosen click's current customer: when the click is linked already and there is
   * no visitor key, there is nothing to update and no statement is sent.
   */
  linkCustomer(
    manager: EntityManager,
    customerId: string,
    visitor: VisitorDigest | null,
    click: Pick<Click, 'id' | 'customerId'> | null | undefined,
  ): Promise<void> {
    const clickRowId = click && click.customerId === null ? click.id : undefined;
    return this.clicks.linkCustomer(manager, customerId, visitor, clickRowId);
  }

  private lookupTrackers(): LookupTracker[] {
    return [...this.options.trackers.keys()].map((name) => this.lookupTracker(name));
  }

  private lookupTracker(name: string): LookupTracker {
    return { name, windowMs: this.options.trackers.get(name)?.attributionWindowMs ?? 0 };
  }
}
