/** Every figure of the bench, in the order a full run measures them (and the table lists them). */
import type { FigureSpec } from '../lib/figure.js';
import { CLAIM_FIGURE } from './claim.js';
import { DRAIN_PG_FIGURE } from './drain-pg.js';
import { DRAIN_FIGURE } from './drain.js';
import { EVENTS_FIGURE } from './events.js';
import { LANDING_FIGURE } from './landing.js';
import { LATENCY_FIGURE } from './latency.js';
import { LOCK_FIGURE } from './lock.js';
import { RECORD_PG_FIGURE } from './record-pg.js';
import { RECORD_FIGURE } from './record.js';
import { RSS_FIGURE } from './rss.js';

export const FIGURES: FigureSpec[] = [
  LANDING_FIGURE,
  EVENTS_FIGURE,
  RECORD_FIGURE,
  DRAIN_FIGURE,
  CLAIM_FIGURE,
  RECORD_PG_FIGURE,
  DRAIN_PG_FIGURE,
  LATENCY_FIGURE,
  RSS_FIGURE,
  LOCK_FIGURE,
];
