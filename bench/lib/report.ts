/** The results: the table on stdout, and what the figures add below it. */
import type { FigureSpec } from './figure.js';
import { fmt } from './progress.js';
import type { Figure } from './runner.js';

export function table(figures: Figure[]): string {
  const rows = [
    ['figure', 'value', 'baseline', 'ratio', 'target', 'result'],
    ...figures.map((f) => {
      const digits = f.unit === 'ms' ? 3 : 0;
      const outcome = `${f.met ? 'met' : 'MISSED'}${f.caveat ? ` (${f.caveat})` : ''}`;
      return [
        f.figure,
        f.display?.value ?? (f.value === undefined ? '—' : `${fmt(f.value, digits)} ${f.unit}`),
        f.display?.baseline ??
          (f.baseline === undefined ? '—' : `${fmt(f.baseline, digits)} ${f.unit}`),
        f.ratio === undefined ? '—' : `${f.ratio.toFixed(2)}×`,
        f.judged ? f.target : `(${f.target})`,
        f.error
          ? `error: ${f.error.split('\n')[0].slice(0, 90)}`
          : f.judged
            ? outcome
            : `info: ${f.met ? 'met' : 'missed'}`,
      ];
    }),
  ];
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  const line = (r: string[]) => `| ${r.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  return [
    line(rows[0]),
    `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`,
    ...rows.slice(1).map(line),
  ].join('\n');
}

/** Each figure's notes, from its first row with details (a figure run at two levels: FULL). */
export function notes(specs: FigureSpec[], figures: Figure[]): string[] {
  return specs.flatMap((spec) => {
    const first = figures.find((f) => f.id === spec.id && f.details);
    return first?.details && spec.notes ? spec.notes(first.details) : [];
  });
}
