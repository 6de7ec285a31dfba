import { RequestMethod } from '@nestjs/common';
import type { VersionValue } from '@nestjs/common/interfaces/index.js';
import type { Request } from 'express';
import { z } from 'zod';

import { VISITOR_KEY_SECRET_ENV } from '../postback.constants.js';
import { MAX_CLICK_BUFFER_MS } from '../postback.constants.js';
import { functionOption, strictOptions } from './strict-options.js';

/**
 * A `{ path, method }` route, strict like every options object: a misspelt `methd` would
 * otherwise leave the route matching every method.
 */
const routeInfo = strictOptions({
  path: z.string(),
  method: z.enum(RequestMethod, { error: 'must be a RequestMethod (RequestMethod.GET, …)' }),
  version: z.custom<VersionValue>().optional(),
});

const route = z.union([z.string(), routeInfo], {
  error: 'must be a path or a { path, method } route',
});

const VISITOR_KEY_SECRET = `must be at least 16 characters (is ${VISITOR_KEY_SECRET_ENV} set?)`;

const BUFFER_MS = `must be a number of milliseconds from 0 (no buffering) to ${MAX_CLICK_BUFFER_MS}`;

/** `capture`: see `ClickCaptureOptions` for what each option does. */
export const captureSchema = strictOptions({
  enabled: z.boolean().optional(),
  routes: z.array(route).optional(),
  exclude: z.array(route).optional(),
  visitorKey: functionOption<(req: Request) => string | undefined>().optional(),
  customerId: functionOption<(req: Request) => string | undefined>().optional(),
  visitorKeySecret: z
    .string({ error: VISITOR_KEY_SECRET })
    .refine((secret) => secret.trim().length >= 16, { error: VISITOR_KEY_SECRET })
    .optional(),
  bufferMs: z
    .number({ error: BUFFER_MS })
    .min(0, { error: BUFFER_MS })
    .max(MAX_CLICK_BUFFER_MS, { error: BUFFER_MS })
    .optional(),
});
