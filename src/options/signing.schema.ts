import { z } from 'zod';

import { hmacSecretProblem } from '../postback/hmac-secret.js';
import { PARAM_NAME } from './names.js';
import { strictOptions } from './strict-options.js';

// No message here repeats a secret's value: only what is wrong with it.
const EMPTY = 'is empty (is its environment variable set?)';

const secret = z
  .string({
    error: (issue) =>
      Array.isArray(issue.input) ? 'takes exactly one secret for this signing type' : undefined,
  })
  .min(1, { error: EMPTY });

/** A secret an HTTP header carries: a control character (a line break?) would fail every send. */
const headerSecret = secret.refine((value) => !/\p{Cc}/u.test(value), {
  error: 'holds control characters (a line break?), which no header can carry',
});

/** One secret or several (a rotation), each a `whsec_` secret the official libraries read. */
const hmacSecrets = z
  .union([z.string(), z.array(z.string()).min(1)], {
    error: 'must be a secret or a list of secrets',
  })
  .check((ctx) => {
    const secrets = [ctx.value].flat();
    const problem = secrets.some((s) => s.length === 0)
      ? EMPTY
      : secrets.map(hmacSecretProblem).find((p) => p !== undefined);
    if (problem) ctx.issues.push({ code: 'custom', message: problem, input: '' });
  });

const paramName = z.string().regex(PARAM_NAME, { error: 'is not a valid parameter name' });

/** A tracker's `signing`: see `SigningOptions`. */
export const signingSchema = z.discriminatedUnion('type', [
  strictOptions({ type: z.literal('token'), param: paramName.optional(), secret }),
  strictOptions({
    type: z.literal('hmac'),
    secret: hmacSecrets,
    covers: z.enum(['path_and_query', 'query']).optional(),
    queryParams: strictOptions({
      id: paramName.optional(),
      timestamp: paramName.optional(),
      signature: paramName.optional(),
    }).optional(),
  }),
  strictOptions({
    type: z.literal('basic'),
    // RFC 7617: the user-id cannot hold a colon, which separates it from the password.
    username: z.string().regex(/^[^:\p{Cc}]+$/u, {
      error: 'must be a non-empty name without ":" or control characters',
    }),
    secret: headerSecret,
  }),
  strictOptions({ type: z.literal('bearer'), secret: headerSecret }),
]);
