import { z } from 'zod';

import type {
  ClickCaptureOptions,
  OutboxOptions,
  PostbackModuleOptions,
  RetryOptions,
  SigningOptions,
  TrackerOptions,
} from '../interfaces/index.js';
import { captureSchema } from './capture.schema.js';
import { customEventTypeProblem } from './event-types.js';
import { outboxSchema } from './outbox.schema.js';
import { retrySchema } from './retry.schema.js';
import { assertSame, type Same } from './same-shape.js';
import { signingSchema } from './signing.schema.js';
import { functionOption, strictOptions } from './strict-options.js';
import { trackerSchema } from './tracker.schema.js';

const eventName = z.string().min(1);

/**
 * Every option of `PostbackModule.forRoot()` / `forRootAsync()` and of the agent's config file.
 * To add an option: declare it (with its JSDoc) in `src/interfaces`, add it here in the part it
 * belongs to (the compile-time checks below fail until both agree), and give its default in
 * the resolver (`src/options/resolve-*.ts`).
 */
export const moduleOptionsSchema = strictOptions({
  trackers: z
    .array(trackerSchema)
    .min(1, { error: 'must list at least one tracker (the services and networks to post to)' }),
  customEventTypes: z
    .array(
      z.string().check((ctx) => {
        const problem = customEventTypeProblem(ctx.value);
        if (problem) ctx.issues.push({ code: 'custom', message: problem, input: ctx.value });
      }),
    )
    .check((ctx) => {
      // A repeat is harmless to the module but is a sign of a list merged by hand.
      ctx.value.forEach((type, i) => {
        if (ctx.value.indexOf(type) !== i) {
          ctx.issues.push({
            code: 'custom',
            message: `lists "${type}" twice: declare each type once`,
            input: type,
            path: [i],
          });
        }
      });
    })
    .optional(),
  capture: captureSchema.optional(),
  outbox: outboxSchema.optional(),
  events: z
    .union(
      [
        z.literal(false),
        strictOptions({
          purchase: eventName.optional(),
          registration: eventName.optional(),
          custom: eventName.optional(),
        }),
      ],
      { error: 'must be false or { purchase?, registration?, custom? }' },
    )
    .optional(),
  sqliteWriterThread: z.boolean().optional(),
  clock: functionOption<() => number>().optional(),
});

// The documented interfaces are the public API; the schema must describe exactly them, at
// every depth (`Same` compares the nested key paths).
assertSame<Same<z.input<typeof moduleOptionsSchema>, PostbackModuleOptions>>();
assertSame<Same<z.input<typeof trackerSchema>, TrackerOptions>>();
assertSame<Same<z.input<typeof outboxSchema>, OutboxOptions>>();
assertSame<Same<z.input<typeof captureSchema>, ClickCaptureOptions>>();
assertSame<Same<z.input<typeof retrySchema>, RetryOptions>>();
assertSame<Same<z.input<typeof signingSchema>, SigningOptions>>();
