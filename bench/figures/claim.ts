/** The outbox claim query on SQLite with a million delivered rows kept, against an empty table. */
import { measureInChild } from '../lib/children.js';
import type { FigureSpec } from '../lib/figure.js';
import { fmt, progress } from '../lib/progress.js';
import { sized } from '../lib/quick.js';

export const CLAIM = sized({ delivered: 1_000_000, due: 200 }, { delivered: 50_000 });

const rows = CLAIM.delivered === 1_000_000 ? '1M' : fmt(CLAIM.delivered);

export const CLAIM_FIGURE: FigureSpec = {
  id: 'claim',
  figure: `claim query p95, ${rows} delivered rows`,
  unit: 'ms',
  target: 'p95 ≤ 10 ms, index',
  timeBoxMs: 150_000,
  settings: { key: 'claim', values: CLAIM },
  async run() {
    const result = await measureInChild('claim-query', 'claim-query.js', { ...CLAIM }, 140_000);
    const retained = result.retained as Record<string, number>;
    const empty = result.empty as Record<string, number>;
    const plans = result.plans as Record<string, string[]>;
    const usesIndex = plans.retained.some((d) => d.includes('IDX_postback_outbox_state_due'));
    progress(
      `  p95 ${retained.p95Ms.toFixed(3)} ms with ${CLAIM.delivered} delivered rows, ${empty.p95Ms.toFixed(3)} ms empty`,
    );
    return {
      value: retained.p95Ms,
      baseline: empty.p95Ms,
      ratio: retained.p95Ms / empty.p95Ms,
      met: retained.p95Ms <= 10 && usesIndex,
      details: { ...result, usesIndex },
    };
  },
  notes(details) {
    const plans = details.plans as Record<string, string[]>;
    return [
      `claim query plan, ${fmt(CLAIM.delivered)} delivered rows (EXPLAIN QUERY PLAN):`,
      ...plans.retained.map((detail) => `  ${detail}`),
    ];
  },
};
