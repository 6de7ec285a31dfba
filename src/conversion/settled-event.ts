import type { ValidEvent } from './checked-event.js';

/** A valid event with its time settled: what recording and its helpers work on. */
export type SettledEvent = ValidEvent & { occurredAt: number };
