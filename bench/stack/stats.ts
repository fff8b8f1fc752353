/**
 * Latency statistics of the stack benchmarks, pure so they are tested (test/bench/stack-stats.test.ts):
 * percentiles by the nearest-rank method (a p99 of 40 samples is the largest sample, never an interpolated
 * value nobody measured), a summary per phase, and a histogram with fixed bucket edges so the charts of two
 * runs line up.
 */

/** The p-th percentile (0 < p ≤ 100) of the samples by nearest rank; undefined for no samples. */
export function percentile(samples: readonly number[], p: number): number | undefined {
  if (!(p > 0 && p <= 100)) throw new RangeError(`percentile must be in (0, 100]: ${p}`);
  if (samples.length === 0) return undefined;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

export interface LatencySummary {
  count: number;
  minMs?: number;
  p50Ms?: number;
  p90Ms?: number;
  p99Ms?: number;
  maxMs?: number;
  meanMs?: number;
}

const round2 = (x: number | undefined) => (x === undefined ? undefined : Math.round(x * 100) / 100);

export function summarize(samples: readonly number[]): LatencySummary {
  if (samples.length === 0) return { count: 0 };
  const s: LatencySummary = {
    count: samples.length,
    minMs: round2(Math.min(...samples)),
    p50Ms: round2(percentile(samples, 50)),
    p90Ms: round2(percentile(samples, 90)),
    p99Ms: round2(percentile(samples, 99)),
    maxMs: round2(Math.max(...samples)),
    meanMs: round2(samples.reduce((a, b) => a + b, 0) / samples.length),
  };
  return s;
}

/** Bucket upper edges in ms (1-2-5 steps): wide enough for a cold start, fine enough for a warm path. */
export const HISTOGRAM_EDGES_MS = [
  5, 10, 20, 30, 50, 75, 100, 150, 200, 300, 500, 750, 1000, 1500, 2000, 3000, 5000, 10_000, 30_000, 60_000,
];

export interface HistogramBucket {
  /** Samples > the previous edge and ≤ this one; the last bucket (le: null) holds everything above. */
  le: number | null;
  count: number;
}

export function histogram(
  samples: readonly number[],
  edges: readonly number[] = HISTOGRAM_EDGES_MS,
): HistogramBucket[] {
  const buckets: HistogramBucket[] = [...edges.map((le) => ({ le, count: 0 })), { le: null, count: 0 }];
  for (const x of samples) {
    const i = edges.findIndex((le) => x <= le);
    (buckets[i === -1 ? edges.length : i] as HistogramBucket).count += 1;
  }
  return buckets;
}

/** "123.4" for a table cell, "—" when there is no value. */
export function ms(x: number | undefined): string {
  if (x === undefined) return '—';
  return x >= 100 ? x.toFixed(0) : x.toFixed(1);
}
