/**
 * Compiled by `npm run typecheck`, never run: each `@ts-expect-error` below fails the build if
 * `Same` stops telling a drifted interface from the schema, at whatever depth the drift is.
 */
import type { z } from 'zod';

import type {
  OutboxOptions,
  PostbackTemplateOptions,
  SigningOptions,
  TrackerOptions,
} from '../../src/interfaces/index.js';
import { outboxSchema } from '../../src/options/outbox.schema.js';
import { assertSame, type Same } from '../../src/options/same-shape.js';
import { signingSchema } from '../../src/options/signing.schema.js';
import { trackerSchema } from '../../src/options/tracker.schema.js';

type Probe = { driftProbe?: number };

// The real interfaces agree.
assertSame<Same<z.input<typeof trackerSchema>, TrackerOptions>>();
assertSame<Same<z.input<typeof outboxSchema>, OutboxOptions>>();
assertSame<Same<z.input<typeof signingSchema>, SigningOptions>>();

// A key added to a nested object of an interface (the postback template).
type DriftedTemplate = Omit<TrackerOptions, 'postback'> & {
  postback?: PostbackTemplateOptions & Probe;
};
// @ts-expect-error postback.driftProbe is in the interface, not in the schema
assertSame<Same<z.input<typeof trackerSchema>, DriftedTemplate>>();

// Two levels down: the outbox's circuit breaker.
type DriftedBreaker = Omit<OutboxOptions, 'circuitBreaker'> & {
  circuitBreaker?: NonNullable<OutboxOptions['circuitBreaker']> & Probe;
};
// @ts-expect-error circuitBreaker.driftProbe is in the interface, not in the schema
assertSame<Same<z.input<typeof outboxSchema>, DriftedBreaker>>();

// One variant of a union: the HMAC signing.
type DriftedSigning =
  Exclude<SigningOptions, { type: 'hmac' }> | (Extract<SigningOptions, { type: 'hmac' }> & Probe);
// @ts-expect-error the hmac variant's driftProbe is in the interface, not in the schema
assertSame<Same<z.input<typeof signingSchema>, DriftedSigning>>();

// Inside a list: a tracker of `trackers`, as the module options hold it.
type DriftedTrackers = { trackers: (TrackerOptions & Probe)[] };
// @ts-expect-error trackers[].driftProbe is in the interface, not in the schema
assertSame<Same<{ trackers: z.input<typeof trackerSchema>[] }, DriftedTrackers>>();
