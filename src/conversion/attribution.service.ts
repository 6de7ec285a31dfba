import { Inject, Injectable, Logger } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

import { clickIdProblem } from '../click/click-id.validator.js';
import type { Click } from '../click/click.entity.js';
import { ClickService } from '../click/click.service.js';
import { type PostbackSession, readSessionClicks } from '../click/session-clicks.js';
import { InvalidInputError } from '../errors/invalid-input.error.js';
import { POSTBACK_RESOLVED_OPTIONS } from '../postback.constants.js';
import type { ResolvedPostbackOptions, ResolvedTracker } from '../options/resolved-options.js';
import type { VisitorDigest } from '../click/visitor-keys.js';
import { CLOCK_SKEW_MS, notCreditable } from '../click/attribution-window.js';
import type { AttributionSource } from './conversion.entity.js';
import { NOT_A_TRACKER } from '../errors/messages.js';

export interface AttributionQuery {
  clickId?: string;
  tracker?: string;
  session?: PostbackSession | null;
  customerId?: string;
  occurredAt: number;
  /** For the log line that says why an explicit click ID was not credited. */
  type?: string;
  orderId?: string;
}

export interface Attribution {
  source: AttributionSource;
  tracker?: ResolvedTracker;
  clickId?: string;
  /** The stored click, when there is one (an explicit or session click may not be stored yet). */
  click?: Click | null;
}

/**
 * Finds the click a conversion belongs to: the explicit click ID on the event, else the
 * visitor's session, else the customer's latest click inside the tracker's attribution
 * window (last click wins). A click captured after the conversion (see CLOCK_SKEW_MS) is
 * never credited with it, however recent, nor one outside its tracker's window: an explicit
 * click ID obeys that too (see byExplicitClickId).
 */
@Injectable()
export class AttributionService {
  private readonly logger = new Logger(AttributionService.name);

  constructor(
    private readonly clicks: ClickService,
    @Inject(POSTBACK_RESOLVED_OPTIONS) private readonly options: ResolvedPostbackOptions,
  ) {}

  /** `visitor`: the digest of the event's visitor key (session ID), if it has one. */
  async attribute(
    manager: EntityManager,
    query: AttributionQuery,
    visitor: VisitorDigest | null,
  ): Promise<Attribution> {
    if (query.clickId !== undefined) {
      const explicit = await this.byExplicitClickId(manager, query);
      if (explicit) return explicit;
    }

    const fromSession = this.latestSessionClick(query);
    if (fromSession) {
      // This visitor's own row first: another visitor's landing with the same click ID has
      // other sub-parameters.
      const click =
        (visitor &&
          (await this.clicks.findForVisitor(
            manager,
            fromSession.clickId,
            fromSession.tracker.name,
            visitor,
          ))) ||
        (await this.clicks.findByClickId(manager, fromSession.clickId, fromSession.tracker.name));
      return {
        source: 'session',
        tracker: fromSession.tracker,
        clickId: fromSession.clickId,
        click,
      };
    }
    if (visitor) {
      const click = await this.latestStored(manager, { visitor }, query.occurredAt);
      if (click) return this.found('session', click);
    }
    if (query.customerId) {
      const click = await this.latestStored(
        manager,
        { customerId: query.customerId },
        query.occurredAt,
      );
      if (click) return this.found('customer', click);
    }
    return { source: 'none' };
  }

  /**
   * The explicit click ID, checked against its capture times like any other click: credited
   * if any of its rows (one per visitor who landed with it) was captured before the event and
   * last seen inside the tracker's window. Otherwise it is not (the event is then attributed
   * as if it had no click ID, and a warning says why). A click ID never captured here (kept by
   * the shop itself) has no capture time to check: credited.
   */
  private async byExplicitClickId(
    manager: EntityManager,
    query: AttributionQuery,
  ): Promise<Attribution | undefined> {
    const clickId = query.clickId as string;
    let tracker = query.tracker ? this.options.trackers.get(query.tracker) : undefined;
    if (query.tracker && !tracker) {
      throw new InvalidInputError({ tracker: [NOT_A_TRACKER(query.tracker)] });
    }
    const click = await this.clicks.findByClickId(
      manager,
      clickId,
      tracker?.name,
      query.occurredAt,
    );
    tracker ??= click ? this.options.trackers.get(click.tracker) : this.onlyTracker();
    if (!tracker) {
      throw new InvalidInputError({
        tracker: [
          'is required: this click ID was never captured and several trackers are configured',
        ],
      });
    }
    const problem = clickIdProblem(clickId, tracker);
    if (problem) throw new InvalidInputError({ clickId: [problem] });
    const why = click && notCreditable(click, query.occurredAt, tracker.attributionWindowMs);
    if (why) {
      const event = `${query.type ?? 'Event'}${query.orderId !== undefined ? ` "${query.orderId}"` : ''}`;
      this.logger.warn(
        `${event}: its click ID (tracker "${tracker.name}") is not credited: ${why}; ` +
          'attributed by session or customer instead, if either has a click',
      );
      return undefined;
    }
    return { source: 'click_id', tracker, clickId, click };
  }

  private onlyTracker(): ResolvedTracker | undefined {
    return this.options.trackers.size === 1 ? [...this.options.trackers.values()][0] : undefined;
  }

  private latestSessionClick(query: AttributionQuery) {
    return readSessionClicks(query.session)
      .map((c) => ({ ...c, tracker: this.options.trackers.get(c.tracker) }))
      .filter(
        (c): c is typeof c & { tracker: ResolvedTracker } =>
          c.tracker !== undefined &&
          !notCreditable(
            { firstSeenAt: c.at, lastSeenAt: c.at },
            query.occurredAt,
            c.tracker.attributionWindowMs,
          ),
      )
      .sort((a, b) => b.at - a.at)[0];
  }

  private async latestStored(
    manager: EntityManager,
    by: { visitor: VisitorDigest } | { customerId: string },
    occurredAt: number,
  ): Promise<Click | undefined> {
    const widest = Math.max(
      ...[...this.options.trackers.values()].map((t) => t.attributionWindowMs),
    );
    // Clicks first seen after the conversion are left out; one seen before it and again after
    // (a later visit) still counts.
    const candidates = await this.clicks.findRecent(
      manager,
      by,
      occurredAt - widest,
      occurredAt + CLOCK_SKEW_MS,
    );
    return candidates.find((click) => {
      const tracker = this.options.trackers.get(click.tracker);
      return (
        tracker !== undefined && !notCreditable(click, occurredAt, tracker.attributionWindowMs)
      );
    });
  }

  private found(source: AttributionSource, click: Click): Attribution {
    return {
      source,
      tracker: this.options.trackers.get(click.tracker),
      clickId: click.clickId,
      click,
    };
  }
}
