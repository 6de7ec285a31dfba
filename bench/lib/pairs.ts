/**
 * Throughput figures measure their two sides (the module's and the bare one) in back-to-back
 * pairs and judge the pair with the median ratio (docs/performance.md says why).
 */
import { progress } from './progress.js';

type Throughput = { perSecond: number };
/** A measured run of one side of a figure: its throughput and what else it reports. */
export type Run = Throughput & Record<string, unknown>;

/** The two sides of a figure measured back to back, and the module's throughput over the bare one's. */
export interface Pair<A extends Throughput, B extends Throughput> {
  module: A;
  bare: B;
  ratio: number;
}

/**
 * What a throughput figure judges: of its pairs of runs (the module's side and the bare side,
 * measured back to back), the one with the median ratio. Not each side's best run: this
 * machine's speed drifts by a third and more from one stretch of seconds to the next, so each
 * side's best says which side drew the fastest stretch. Two runs back to back mostly share a
 * stretch, and the median leaves out the pair one fell across.
 */
export function medianPair<A extends Throughput, B extends Throughput>(
  pairs: Pair<A, B>[],
): Pair<A, B> {
  const sorted = [...pairs].sort((a, b) => a.ratio - b.ratio);
  // An odd count is asked for; with an even one, the lower of the two middle pairs.
  return sorted[Math.floor((sorted.length - 1) / 2)];
}

export const pairOf = <A extends Throughput, B extends Throughput>(
  module: A,
  bare: B,
): Pair<A, B> => ({
  module,
  bare,
  ratio: module.perSecond / bare.perSecond,
});

/**
 * Runs the two sides of a throughput figure as `pairs` back-to-back pairs and keeps the median
 * pair (see `medianPair`). The order alternates, module first then bare first, so that neither
 * side always runs second (on a warmer page cache, a receiver with more sockets). Every pair
 * goes in the details.
 */
export async function medianOfPairs<A extends Run, B extends Run>(
  pairs: number,
  module: (pair: number) => Promise<A>,
  bare: (pair: number) => Promise<B>,
): Promise<{ module: A; bare: B; pairs: { module: number; bare: number; ratio: number }[] }> {
  const measured: Pair<A, B>[] = [];
  for (let pair = 1; pair <= pairs; pair++) {
    if (pair % 2 === 1) {
      const first = await module(pair);
      measured.push(pairOf(first, await bare(pair)));
    } else {
      const first = await bare(pair);
      measured.push(pairOf(await module(pair), first));
    }
    progress(`  pair ${pair}: ${measured[pair - 1].ratio.toFixed(2)}×`);
  }
  const median = medianPair(measured);
  return {
    module: median.module,
    bare: median.bare,
    pairs: measured.map((p) => ({
      module: p.module.perSecond,
      bare: p.bare.perSecond,
      ratio: p.ratio,
    })),
  };
}
