import type { Logger } from '@nestjs/common';

import type { Clock } from '../common/clock.js';
import { safeErrorText, worthLogging } from '../database/safe-error-text.js';
import type { WakeSignal } from '../common/wake-signal.js';
import type { ClaimPace } from './claim-pace.js';
import type { ClaimedPostback } from './claimed-postback.js';
import type { OutboxStore } from './outbox.store.js';
import type { PostbackSender } from './postback-sender.js';
import type { CoalescedMarks } from './send-marks.js';
import type { TrackerGate } from './tracker-gate.js';

/** What a drain works with: the flusher's collaborators, made once and shared by its drains. */
export interface DrainTools {
  readonly store: OutboxStore;
  readonly sender: PostbackSender;
  readonly gate: TrackerGate;
  readonly pace: ClaimPace;
  readonly marks: CoalescedMarks<ClaimedPostback>;
  /** Woken when a send finishes or an exchange lands. */
  readonly signal: WakeSignal;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly concurrency: number;
  /** A queued row is only sent with at least this much of its lease left. */
  readonly minimumLeaseLeftMs: number;
}

/** Marks rows as sending; false when that fails: then they are not sent. */
export function markSending(tools: DrainTools, rows: ClaimedPostback[]): Promise<boolean> {
  return tools.marks.mark(rows).then(
    () => true,
    (error: Error) => {
      if (worthLogging(error)) {
        tools.logger.warn(
          `Could not mark ${rows.length} postback(s) as sending, so they were not sent; they go out once their leases expire, as lost claims, not attempts: ${safeErrorText(error)}`,
        );
      }
      return false;
    },
  );
}
