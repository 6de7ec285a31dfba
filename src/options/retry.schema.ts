import { z } from 'zod';

import { strictOptions } from './strict-options.js';

const ONE_TO_THREE = 'must be 1, 2 or 3';

/** `outbox.retry` and a tracker's `retry`: see `RetryOptions` for what each one does. */
export const retrySchema = strictOptions({
  maxAttempts: z.number().int().positive().optional(),
  initialDelayMs: z.number().positive().optional(),
  multiplier: z.number().min(1).optional(),
  maxDelayMs: z.number().positive().optional(),
  jitter: z.number().min(0).lt(1).optional(),
  retryAfterCapMs: z.number().positive().optional(),
  permanentFailureAttempts: z
    .number()
    .int({ error: ONE_TO_THREE })
    .min(1, { error: ONE_TO_THREE })
    .max(3, { error: ONE_TO_THREE })
    .optional(),
  maxAgeMs: z.number().positive().optional(),
});
