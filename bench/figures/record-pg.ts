/**
 * ConversionService.record() per second on PostgreSQL (16 callers), against the same two rows
 * inserted in a bare `pg` transaction; each run on a fresh scratch database.
 */
import { measureInChild } from '../lib/children.js';
import { type FigureSpec, ratioAtLeast } from '../lib/figure.js';
import { medianOfPairs, type Run } from '../lib/pairs.js';
import { fmt, progress } from '../lib/progress.js';
import { sized } from '../lib/quick.js';
import { dropScratch, postgresScratch } from '../lib/scratch.js';

export const RECORD_PG = sized(
  { count: 10_000, warmup: 1_000, concurrency: 16, pairs: 3 },
  { count: 1_000, warmup: 100, pairs: 1 },
);

export const RECORD_PG_FIGURE: FigureSpec = {
  id: 'record-pg',
  figure: `ConversionService.record()/s (PostgreSQL, ${RECORD_PG.concurrency} callers)`,
  unit: 'events/s',
  target: '≥ 0.6×',
  timeBoxMs: 240_000,
  settings: { key: 'recordPostgres', values: RECORD_PG },
  async run() {
    // A fresh scratch database for each run, so no run writes into another's indexes. The
    // server is shared with whoever else uses it (tests are not under the bench lock): the
    // two sides run in pairs, and the median pair is judged.
    const measure = async (mode: 'module' | 'bare', round: number) => {
      const scratch = await postgresScratch();
      try {
        const result = (await measureInChild(
          `record-pg-${mode}-${round}`,
          'record.js',
          { mode, url: scratch.url, ...RECORD_PG },
          80_000,
        )) as Run;
        const label = mode === 'module' ? 'record()' : 'bare pg transaction';
        progress(`  ${label}: ${fmt(result.perSecond)}/s`);
        return result;
      } finally {
        await dropScratch(scratch);
      }
    };
    const { module, bare, pairs } = await medianOfPairs(
      RECORD_PG.pairs,
      (pair) => measure('module', pair),
      (pair) => measure('bare', pair),
    );
    return {
      ...ratioAtLeast(0.6)(module.perSecond, bare.perSecond),
      details: {
        module,
        bare,
        pairs,
      },
    };
  },
  notes(details) {
    const postgres = (details.module as { postgres?: unknown } | undefined)?.postgres;
    return postgres ? [`PostgreSQL: ${JSON.stringify(postgres)}`] : [];
  },
};
