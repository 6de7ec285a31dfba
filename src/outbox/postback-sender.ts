import { Inject, Injectable } from '@nestjs/common';

import type { Clock } from '../common/clock.js';
import { POSTBACK_CLOCK, POSTBACK_RESOLVED_OPTIONS } from '../postback.constants.js';
import { buildPostbackRequest } from '../postback/postback-request.builder.js';
import { secretRedactor } from '../postback/secret-redactor.js';
import type { ResolvedPostbackOptions, ResolvedTracker } from '../options/resolved-options.js';
import {
  type DeliveryVerdict,
  judgeAttempt,
  notYetReason,
  notYetRefusal,
} from './delivery-verdict.js';
import {
  type AttemptRecord,
  type ClaimedPostback,
  OutboxStore,
  type Settlement,
} from './outbox.store.js';
import { PostbackHttpClient, type SendResult } from './postback-http.client.js';
import type { Postback } from './postback.entity.js';
import type { PostbackFields } from '../postback/postback-fields.js';
import { healthOf, type TrackerHealth } from './tracker-gate.js';

/** What one send leaves to record, and what it says of the tracker's health. */
export interface SentPostback {
  settlement: Settlement;
  health: TrackerHealth;
}

/**
 * One delivery attempt: renders, sends and judges one claimed postback, for the flusher. A
 * provider of its own, so a test can stand in for it (`overrideProvider(PostbackSender)`).
 */
@Injectable()
export class PostbackSender {
  constructor(
    private readonly store: OutboxStore,
    private readonly http: PostbackHttpClient,
    @Inject(POSTBACK_RESOLVED_OPTIONS) private readonly options: ResolvedPostbackOptions,
    @Inject(POSTBACK_CLOCK) private readonly clock: Clock,
  ) {}

  /**
   * Sends one postback; returns what to record and whether the tracker answered. Never
   * rejects: whatever goes wrong becomes the attempt's outcome.
   */
  async send(row: ClaimedPostback): Promise<SentPostback> {
    const attempt = row.attempts + 1;
    const startedAt = this.clock.now();
    const tracker = this.options.trackers.get(row.tracker);
    let requestUrl = '';
    let result: SendResult | undefined;
    let verdict: DeliveryVerdict;
    let original: Postback['state'] | undefined = 'delivered';
    let unreadable: string | undefined;
    if (row.afterPostbackId) {
      original = await this.store.stateOf(row.afterPostbackId).catch((error: Error) => {
        unreadable = error.message;
        return undefined;
      });
    }
    if (!tracker) {
      verdict = { outcome: 'dead', reason: `tracker "${row.tracker}" is no longer configured` };
    } else if (unreadable !== undefined) {
      // A reversal must never overtake its original: not knowing, try again later.
      const reason = `could not read the original postback's state: ${unreadable}`;
      verdict = judgeAttempt(
        { error: reason, durationMs: 0 },
        attempt,
        tracker,
        startedAt,
        row.createdAt,
      );
    } else if (original !== 'delivered' && original !== undefined) {
      // (Only delivered rows are ever purged: an original that is gone was delivered.)
      verdict = {
        outcome: 'dead',
        reason: `the original conversion's postback was never delivered (${original}); there is nothing to reverse`,
      };
    } else {
      try {
        const fields = JSON.parse(row.fieldsJson) as PostbackFields;
        const request = buildPostbackRequest(tracker, fields, row.id, startedAt);
        requestUrl = request.redactedUrl;
        result = await this.http.send(request);
        const since = await this.notYetSince(row, tracker, result);
        verdict = judgeAttempt(result, attempt, tracker, this.clock.now(), row.createdAt, since);
      } catch (error) {
        verdict = {
          outcome: 'dead',
          reason: `cannot build the postback: ${(error as Error).message}`,
        };
      }
    }
    // Nothing the tracker sent back is stored or logged before its secrets are taken out.
    const { redact, excerpt } = secretRedactor(tracker);
    if (verdict.outcome !== 'delivered') verdict = { ...verdict, reason: redact(verdict.reason) };
    const responseExcerpt = excerpt(result, this.options.outbox.responseExcerptBytes);
    const record: AttemptRecord = {
      attempt,
      startedAt,
      durationMs: result?.durationMs ?? 0,
      requestUrl,
      statusCode: result?.status ?? null,
      outcome: verdict.outcome,
      error: verdict.outcome === 'delivered' ? null : verdict.reason,
      responseExcerpt,
    };
    return {
      settlement: { row, attempt: record, change: this.changeFor(verdict, attempt, result) },
      health: result ? healthOf(result.status) : 'up',
    };
  }

  /**
   * When this run of `row` first met the "not yet" refusal `result` is, if it is one; now if
   * it is the first, or if the attempt log cannot be read (a retry, still bounded by the
   * attempts and the max age, rather than a sale dead-lettered early).
   */
  private async notYetSince(
    row: ClaimedPostback,
    tracker: ResolvedTracker,
    result: SendResult,
  ): Promise<number | undefined> {
    const rule = notYetRefusal(result, tracker);
    if (!rule || row.attempts === 0) return undefined;
    return this.store
      .refusedSince(row.id, result.status as number, notYetReason(result, rule))
      .catch(() => undefined);
  }

  /** The row's new state: whole literals, no spread (this runs for every send). */
  private changeFor(
    verdict: DeliveryVerdict,
    attempt: number,
    result?: SendResult,
  ): Partial<Postback> {
    const lastStatus = result?.status ?? null;
    switch (verdict.outcome) {
      case 'delivered':
        return {
          attempts: attempt,
          lastStatus,
          state: 'delivered',
          deliveredAt: this.clock.now(),
          lastError: null,
        };
      case 'retry':
        return {
          attempts: attempt,
          lastStatus,
          state: 'pending',
          nextAttemptAt: verdict.nextAttemptAt,
          lastError: verdict.reason,
        };
      case 'dead':
        return { attempts: attempt, lastStatus, state: 'dead', lastError: verdict.reason };
    }
  }
}
