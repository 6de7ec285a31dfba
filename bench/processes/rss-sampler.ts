/**
 * Samples this process's resident set size every `intervalMs` (process.memoryUsage.rss(), one
 * cheap read): the peak since the last `resetPeak()`, and one point per second of the highest
 * sample in it, for the timeline of a long run.
 */
export function rssSampler(intervalMs = 50) {
  const started = Date.now();
  let peak = 0;
  /** What the process held at the peak: V8's heap (this thread's), and memory outside it. */
  let atPeak: Record<string, number> = {};
  let secondPeak = 0;
  let second = 0;
  const timeline: [seconds: number, mb: number][] = [];
  const mb = (bytes: number) => Math.round(bytes / 2 ** 20);
  const sample = () => {
    const rss = process.memoryUsage.rss();
    if (rss > peak) {
      peak = rss;
      // Only at a new peak: the full reading walks V8's heap spaces.
      const { heapTotal, heapUsed, external, arrayBuffers } = process.memoryUsage();
      atPeak = {
        heapTotal: mb(heapTotal),
        heapUsed: mb(heapUsed),
        external: mb(external),
        arrayBuffers: mb(arrayBuffers),
      };
    }
    const now = Math.floor((Date.now() - started) / 1000);
    if (now !== second) {
      if (secondPeak > 0) timeline.push([second, mb(secondPeak)]);
      second = now;
      secondPeak = 0;
    }
    secondPeak = Math.max(secondPeak, rss);
  };
  sample();
  const timer = setInterval(sample, intervalMs);
  timer.unref();
  return {
    currentMb: () => mb(process.memoryUsage.rss()),
    peakMb: () => mb(peak),
    /** The main thread's V8 heap and external memory at the peak, MB. */
    atPeakMb: () => atPeak,
    resetPeak(): void {
      peak = 0;
      sample();
    },
    /** [seconds since start, MB] per second, at most `points` of them (evenly thinned). */
    timeline(points = 120): [number, number][] {
      const step = Math.max(1, Math.ceil(timeline.length / points));
      return timeline.filter((_, i) => i % step === 0 || i === timeline.length - 1);
    },
    stop: () => clearInterval(timer),
  };
}
