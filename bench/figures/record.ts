/** ConversionService.record() per second on SQLite, against the same rows written bare. */
import { measureInChild } from '../lib/children.js';
import { type FigureSpec, ratioAtLeast } from '../lib/figure.js';
import { fmt, progress } from '../lib/progress.js';
import { sized } from '../lib/quick.js';

export const RECORD = sized(
  { count: 20_000, warmup: 2_000, concurrency: 16 },
  { count: 2_000, warmup: 200 },
);

export const RECORD_FIGURE: FigureSpec = {
  id: 'record',
  figure: 'ConversionService.record()/s (SQLite)',
  unit: 'events/s',
  target: '≥ 0.6×',
  timeBoxMs: 90_000,
  perSqliteLevel: true,
  settings: { key: 'record', values: RECORD },
  async run(synchronous) {
    const module = await measureInChild(
      `record-module-${synchronous}`,
      'record.js',
      { mode: 'module', ...RECORD, synchronous },
      60_000,
    );
    progress(`  record(): ${fmt(module.perSecond as number)}/s`);
    const bare = await measureInChild(
      `record-bare-${synchronous}`,
      'record.js',
      { mode: 'bare', ...RECORD, synchronous },
      30_000,
    );
    progress(`  bare better-sqlite3: ${fmt(bare.perSecond as number)}/s`);
    const counted = await measureInChild(
      `record-count-${synchronous}`,
      'record.js',
      { mode: 'count', count: 500, warmup: 100, concurrency: RECORD.concurrency, synchronous },
      30_000,
    ).catch((error: Error) => ({ error: error.message }));
    return {
      ...ratioAtLeast(0.6)(module.perSecond as number, bare.perSecond as number),
      details: {
        module,
        bare,
        statementsPerEvent: (counted as Record<string, unknown>).statementsPerEvent,
        statements: (counted as Record<string, unknown>).statements,
      },
    };
  },
  notes(details) {
    const sqlite = (details.module as { sqlite?: unknown } | undefined)?.sqlite;
    return sqlite ? [`SQLite as the module opens it: ${JSON.stringify(sqlite)}`] : [];
  },
};
