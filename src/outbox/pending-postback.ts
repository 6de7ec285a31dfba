import { uuidV7 } from '../common/uuid-v7.js';
import type { Postback } from './postback.entity.js';
import type { PostbackFields } from '../postback/postback-fields.js';

/**
 * A new outbox row, due at once; `afterPostbackId` makes a reversal wait for its original. Its
 * ID (the event ID trackers see) is time-ordered, as is its conversion's: see uuidV7.
 */
export function pendingPostback(
  conversionId: string,
  tracker: string,
  fields: PostbackFields,
  now: number,
  afterPostbackId: string | null = null,
): Postback {
  return {
    id: uuidV7(now),
    conversionId,
    tracker,
    state: 'pending',
    fields,
    attempts: 0,
    lostClaims: 0,
    sendingAt: null,
    nextAttemptAt: now,
    afterPostbackId,
    leaseOwner: null,
    claimToken: null,
    lastStatus: null,
    lastError: null,
    deliveredAt: null,
    createdAt: now,
    updatedAt: now,
  };
}
