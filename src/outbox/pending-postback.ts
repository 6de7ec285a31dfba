import { randomUUID } from 'node:crypto';

import type { Postback, PostbackFields } from './postback.entity.js';

/** A new outbox row, due at once; `afterPostbackId` makes a reversal wait for its original. */
export function pendingPostback(
  conversionId: string,
  tracker: string,
  fields: PostbackFields,
  now: number,
  afterPostbackId: string | null = null,
): Postback {
  return {
    id: randomUUID(),
    conversionId,
    tracker,
    state: 'pending',
    fields,
    attempts: 0,
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
