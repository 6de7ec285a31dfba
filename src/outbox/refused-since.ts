import type { EntityManager } from 'typeorm';

import { DeliveryAttempt } from './delivery-attempt.entity.js';

/**
 * When the current run of a postback (its attempts since it was queued or last replayed:
 * attempt numbers restart at 1 on a replay) first met a refusal whose recorded error starts
 * with `reason`, with HTTP `status`; undefined if none did. A "not yet" refusal is bounded
 * from that answer, not from the conversion: after an outage or a backlog the first such
 * answer may come hours after the sale.
 */
export async function refusedSince(
  manager: EntityManager,
  postbackId: string,
  status: number,
  reason: string,
): Promise<number | undefined> {
  const attempts = await manager.find(DeliveryAttempt, {
    select: { attempt: true, startedAt: true, statusCode: true, error: true },
    where: { postbackId },
    order: { startedAt: 'DESC' },
  });
  let first: number | undefined;
  let previous = Number.POSITIVE_INFINITY;
  for (const attempt of attempts) {
    // Walking back in time the numbers fall; one that rises is the run before a replay.
    if (attempt.attempt >= previous) break;
    previous = attempt.attempt;
    if (attempt.statusCode === status && attempt.error?.startsWith(reason)) {
      first = attempt.startedAt;
    }
  }
  return first;
}
