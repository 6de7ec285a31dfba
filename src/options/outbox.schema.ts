import { z } from 'zod';

import { retrySchema } from './retry.schema.js';
import { strictOptions } from './strict-options.js';

const positive = z.number().positive();

/** `outbox`: see `OutboxOptions` for what each option does. */
export const outboxSchema = strictOptions({
  enabled: z.boolean().optional(),
  flushIntervalMs: positive.optional(),
  batchSize: z.number().int().positive().optional(),
  concurrency: z.number().int().positive().optional(),
  timeoutMs: positive.optional(),
  leaseMs: positive.optional(),
  responseExcerptBytes: z.number().int().positive().optional(),
  shutdownGraceMs: z.number().min(0).optional(),
  retry: retrySchema.optional(),
  circuitBreaker: strictOptions({
    failureThreshold: z.number().int().positive().optional(),
    cooldownMs: positive.optional(),
    maxCooldownMs: positive.optional(),
  }).optional(),
});
