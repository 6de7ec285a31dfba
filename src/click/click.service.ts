import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

import type { Clock } from '../common/clock.js';
import { InvalidInputError } from '../errors/invalid-input.error.js';
import { uuidV7 } from '../common/uuid-v7.js';
import { PostbackDatabase } from '../database/postback-database.js';
import { hydrate, rawQuery, selectList } from '../database/raw-sql.js';
import {
  LANDING_PATH_MAX_LENGTH,
  POSTBACK_CLOCK,
  POSTBACK_RESOLVED_OPTIONS,
} from '../postback.constants.js';
import type { ResolvedPostbackOptions } from '../options/resolved-options.js';
import { CLOCK_SKEW_MS } from './attribution-window.js';
import { dataSourceOf } from '../database/typeorm-compat.js';
import { clickIdLookup, type LookupTracker } from './click-id-lookup.js';
import { textProblem } from '../common/text.js';
import { clickIdProblem } from './click-id.validator.js';
import { Click } from './click.entity.js';
import { takeClicks } from './click-intake.js';
import { storeClick } from './click-store.js';
import { ClickWriteBuffer } from './click-write-buffer.js';
import { type VisitorDigest, VisitorKeys } from './visitor-keys.js';
import type { ExtractedClick } from './landing-clicks.js';
import { trackerSubParams } from './tracker-sub-params.js';
import { NOT_A_TRACKER } from '../errors/messages.js';

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
 * Stores click IDs and finds them again for attribution. Validation happens here, so a click
 * forwarded through the agent's API and one captured by the middleware obey the same rules.
 */
@Injectable()
export class ClickService {
  private clickColumns?: string;
  private allTrackers?: LookupTracker[];

  constructor(
    private readonly db: PostbackDatabase,
    private readonly buffer: ClickWriteBuffer,
    @Inject(POSTBACK_RESOLVED_OPTIONS) private readonly options: ResolvedPostbackOptions,
    @Inject(POSTBACK_CLOCK) private readonly clock: Clock,
    /** What a visitor key is stored as; conversions store the same. */
    readonly visitorKeys: VisitorKeys,
  ) {}

  /** Validates and stores a click; a repeated landing only refreshes `lastSeenAt`. */
  async capture(input: CaptureClickInput): Promise<Click> {
    return storeClick(this.db, this.prepare(input));
  }

  /** `capture()` for several clicks, refused at once when the database cannot take them now. */
  take(inputs: CaptureClickInput[]): Promise<Click[]> {
    const rows = inputs.map((input) => this.prepare(input));
    return takeClicks(this.db, rows);
  }

  /**
   * Validates a click and builds its row, as of now, for `capture()` or the capture buffer.
   * Throws `InvalidInputError` with every problem.
   */
  prepare(input: CaptureClickInput): Click {
    const tracker = this.options.trackers.get(input.tracker);
    const fields: Record<string, string[]> = {};
    let subParams: Record<string, string> | null = null;
    if (!tracker) {
      fields.tracker = [NOT_A_TRACKER(input.tracker)];
    } else {
      const problem = clickIdProblem(input.clickId, tracker);
      if (problem) fields.clickId = [problem];
      // Only the tracker's own sub-parameters, as from a landing; the others are not stored.
      subParams = trackerSubParams(tracker, input.subParams ?? {}, (name, problem) => {
        fields[`subParams.${name}`] = [problem];
      });
    }
    if (input.customerId !== undefined) {
      const problem = textProblem(input.customerId, 255);
      if (problem) fields.customerId = [problem];
    }
    // As record()'s sessionKey: a lone surrogate would turn into U+FFFD on its way to the
    // database, and two visitors' keys into one.
    if (input.visitorKey) {
      const problem = textProblem(input.visitorKey, 1024);
      if (problem) fields.visitorKey = [problem];
    }
    if (Object.keys(fields).length > 0) throw new InvalidInputError(fields);
    return this.rowOf({ ...input, subParams });
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
    if (customerId !== undefined) {
      const problem = textProblem(customerId, 255);
      if (problem) throw new InvalidInputError({ customerId: [problem] });
    }
    // rowOf's work, without the input object: this runs on every landing.
    const now = this.clock.now();
    return {
      id: uuidV7(now),
      tracker: click.tracker,
      clickId: click.clickId,
      visitorKey: this.visitorKeys.digest(visitorKey) ?? '',
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

  private rowOf(input: CaptureClickInput): Click {
    const now = this.clock.now();
    return {
      id: uuidV7(),
      tracker: input.tracker,
      clickId: input.clickId,
      visitorKey: this.visitorKeys.digest(input.visitorKey) ?? '',
      customerId: input.customerId ?? null,
      landingPath: (input.landingPath ?? '').slice(0, LANDING_PATH_MAX_LENGTH),
      subParams: input.subParams && Object.keys(input.subParams).length ? input.subParams : null,
      firstSeenAt: now,
      lastSeenAt: now,
    };
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
   * with `occurredAt`, one creditable with an event at that time if any (see clickIdLookup).
   */
  async findByClickId(
    manager: EntityManager,
    clickId: string,
    tracker?: string,
    occurredAt?: number,
  ): Promise<Click | null> {
    const { text, parameters } = clickIdLookup(
      this.columns(manager),
      tracker ? [this.lookupTracker(tracker)] : (this.allTrackers ??= this.lookupTrackers()),
      clickId,
      occurredAt === undefined ? undefined : { occurredAt, skewMs: CLOCK_SKEW_MS },
    );
    const rows = await rawQuery(manager, text, parameters);
    return rows.length > 0 ? hydrate(manager, Click, rows[0]) : null;
  }

  /** The row of this click for this visitor, if they landed with it. */
  async findForVisitor(
    manager: EntityManager,
    clickId: string,
    tracker: string,
    visitor: VisitorDigest,
  ): Promise<Click | null> {
    const rows = await rawQuery(
      manager,
      `SELECT ${this.columns(manager)} FROM "postback_clicks" "c" WHERE "c"."tracker" = :tracker AND "c"."click_id" = :clickId AND "c"."visitor_key" = :visitorKey`,
      { tracker, clickId, visitorKey: visitor },
    );
    return rows.length > 0 ? hydrate(manager, Click, rows[0]) : null;
  }

  /** Recent clicks of a visitor or a customer, newest first, for attribution to choose from. */
  async findRecent(
    manager: EntityManager,
    by: { visitor: VisitorDigest } | { customerId: string },
    since: number,
    firstSeenBy: number,
  ): Promise<Click[]> {
    // Served by IDX_postback_clicks_visitor_seen and IDX_postback_clicks_customer_seen.
    const rows =
      'visitor' in by
        ? await rawQuery(
            manager,
            `SELECT ${this.columns(manager)} FROM "postback_clicks" "c" WHERE "c"."visitor_key" = :key AND "c"."last_seen_at" >= :since AND "c"."first_seen_at" <= :firstSeenBy ORDER BY "c"."last_seen_at" DESC LIMIT 20`,
            { key: by.visitor, since, firstSeenBy },
          )
        : await rawQuery(
            manager,
            `SELECT ${this.columns(manager)} FROM "postback_clicks" "c" WHERE "c"."customer_id" = :key AND "c"."last_seen_at" >= :since AND "c"."first_seen_at" <= :firstSeenBy ORDER BY "c"."last_seen_at" DESC LIMIT 20`,
            { key: by.customerId, since, firstSeenBy },
          );
    return rows.map((row) => hydrate(manager, Click, row));
  }

  /**
   * Links a visitor's clicks (and one chosen click) that have no customer yet to a customer.
   * Pass the chosen click's current customer: when the click is linked already and there is
   * no visitor key, there is nothing to update and no statement is sent.
   */
  async linkCustomer(
    manager: EntityManager,
    customerId: string,
    visitor: VisitorDigest | null,
    click: Pick<Click, 'id' | 'customerId'> | null | undefined,
  ): Promise<void> {
    const clickRowId = click && click.customerId === null ? click.id : undefined;
    const set =
      'UPDATE "postback_clicks" SET "customer_id" = :customerId WHERE "customer_id" IS NULL';
    if (visitor !== null && clickRowId !== undefined) {
      await rawQuery(manager, `${set} AND ("visitor_key" = :key OR "id" = :id)`, {
        customerId,
        key: visitor,
        id: clickRowId,
      });
    } else if (visitor !== null) {
      await rawQuery(manager, `${set} AND "visitor_key" = :key`, { customerId, key: visitor });
    } else if (clickRowId !== undefined) {
      await rawQuery(manager, `${set} AND "id" = :id`, { customerId, id: clickRowId });
    }
  }

  private lookupTrackers(): LookupTracker[] {
    return [...this.options.trackers.keys()].map((name) => this.lookupTracker(name));
  }

  private lookupTracker(name: string): LookupTracker {
    return { name, windowMs: this.options.trackers.get(name)?.attributionWindowMs ?? 0 };
  }

  /** The select list of a click row, aliased "c"; built once. */
  private columns(manager: EntityManager): string {
    return (this.clickColumns ??= selectList(dataSourceOf(manager).getMetadata(Click), 'c'));
  }
}

function hasKeys(object: Record<string, string>): boolean {
  for (const _ in object) return true;
  return false;
}
