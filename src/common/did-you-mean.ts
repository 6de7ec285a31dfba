/**
 * The known name closest to a mistyped one, if it is close enough to be what was meant: a
 * different case, a few letters swapped, dropped or added (Damerau-Levenshtein distance of at
 * most a third of the longer name, and at most 3), or the start or a run-on of a known name.
 */
export function didYouMean(word: string, known: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  let extended: string | undefined;
  for (const candidate of known) {
    // A name cut short or run on (`attributionWindow` for `attributionWindowDays`).
    const [shorter, longer] = [word, candidate].sort((a, b) => a.length - b.length);
    if (shorter.length >= 4 && longer.toLowerCase().startsWith(shorter.toLowerCase())) {
      extended ??= candidate;
    }
    if (candidate.toLowerCase() === word.toLowerCase()) return candidate;
    const distance = editDistance(word.toLowerCase(), candidate.toLowerCase());
    const limit = Math.min(3, Math.floor(Math.max(word.length, candidate.length) / 3));
    if (distance <= limit && distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best ?? extended;
}

/** `unknown X — did you mean "Y"?`, or the list of what is known when nothing is close. */
export function unknownNameHelp(word: string, known: readonly string[]): string {
  const close = didYouMean(word, known);
  if (close) return `did you mean "${close}"?`;
  return known.length > 0 ? `known: ${known.join(', ')}` : 'nothing is allowed here';
}

/** Optimal string alignment distance: insertions, deletions, substitutions, transpositions. */
function editDistance(a: string, b: string): number {
  const rows = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      rows[i][j] = Math.min(rows[i - 1][j] + 1, rows[i][j - 1] + 1, rows[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        rows[i][j] = Math.min(rows[i][j], rows[i - 2][j - 2] + 1);
      }
    }
  }
  return rows[a.length][b.length];
}
