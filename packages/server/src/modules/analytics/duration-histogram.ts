/**
 * Durations are kept in rollups as a histogram so medians and 90th percentiles can be combined across hours.
 *
 * Buckets: up to an hour, one bucket per whole second (bucket b holds (b-1 s, b s]; bucket 0 holds 0); above,
 * log-scale buckets 5 % wide (bucket 3600 + k holds (3600 s × 1.05^(k-1), 3600 s × 1.05^k]). Histograms are stored
 * sparse (only buckets that hold something). A percentile read from the histogram is the upper bound of the bucket
 * holding it: exact for whole-second durations up to an hour, at most 1 s above the true value up to an hour, and at
 * most 5 % above it beyond. The raw-event path buckets its
 * durations with the same SQL expression, so a figure is the same whichever path answered it.
 */
export const LINEAR_LIMIT_MS = 3_600_000;
const GROWTH = 1.05;

/** The SQL that maps a duration column (ms) to its bucket; the only definition of the buckets' edges. */
export function bucketSql(column: string): string {
  return `(case when ${column} <= ${LINEAR_LIMIT_MS} then ceil(${column} / 1000.0)::int else ${LINEAR_LIMIT_MS / 1000} + ceil(ln(${column} / ${LINEAR_LIMIT_MS}.0) / ln(${GROWTH}))::int end)`;
}

/** The upper edge (ms) of a bucket: the value a percentile falling in it is reported as. */
export function bucketUpperMs(bucket: number): number {
  const linear = LINEAR_LIMIT_MS / 1000;
  if (bucket <= linear) return bucket * 1000;
  return Math.round(LINEAR_LIMIT_MS * GROWTH ** (bucket - linear));
}

export type Histogram = Map<number, number>;

export function addHistogram(into: Histogram, bucket: number, count: number): void {
  into.set(bucket, (into.get(bucket) ?? 0) + count);
}

/** Nearest-rank percentile (the smallest value with at least p of the values at or below it), from buckets. */
export function percentileMs(histogram: Histogram, p: number, upperMs: (bucket: number) => number = bucketUpperMs): number | null {
  let total = 0;
  for (const n of histogram.values()) total += n;
  if (total === 0) return null;
  const rank = Math.max(1, Math.ceil(p * total));
  let seen = 0;
  for (const bucket of [...histogram.keys()].sort((a, b) => a - b)) {
    seen += histogram.get(bucket) ?? 0;
    if (seen >= rank) return upperMs(bucket);
  }
  return null;
}

/**
 * The coarse grid of the daily rollups: a year of per-second buckets is too many to read within a second, so daily
 * histograms group the per-second buckets into wider ones with round upper edges: every second up to 30 s, then 2 s
 * up to a minute, 5 s up to 2 minutes, 10 s up to 5 minutes, 20 s up to 10 minutes, 30 s up to 20 minutes, a minute up
 * to an hour; beyond an hour the 5 % buckets are already coarse. A percentile from this grid is the upper edge of its
 * bucket: at most 1 s above the true value up to 30 s and at most 8.3 % above it beyond (60 s → 65 s is the widest).
 *
 * `COARSE_UPPER[i]` is the last per-second bucket of coarse bucket i, so a coarse bucket is a union of fine buckets and
 * folding fine into coarse is exact. SQL maps with `width_bucket(fine, COARSE_UPPER + 1)`.
 */
export const COARSE_UPPER: readonly number[] = (() => {
  const edges = [0];
  const steps: [upTo: number, step: number][] = [
    [30, 1],
    [60, 2],
    [120, 5],
    [300, 10],
    [600, 20],
    [1200, 30],
    [3600, 60],
  ];
  let edge = 0;
  for (const [upTo, step] of steps) {
    while (edge < upTo) {
      edge += step;
      edges.push(edge);
    }
  }
  const linear = LINEAR_LIMIT_MS / 1000;
  for (let k = 1; k <= 600; k++) edges.push(linear + k);
  return edges;
})();

/** The thresholds `width_bucket` takes to map a fine bucket to its coarse bucket (a literal int array for SQL). */
export const COARSE_THRESHOLDS_SQL = `'{${COARSE_UPPER.map((u) => u + 1).join(',')}}'::int[]`;

/** The coarse bucket holding a fine bucket: the first i with COARSE_UPPER[i] ≥ fine (as SQL's width_bucket does). */
export function coarseOf(fine: number): number {
  let lo = 0;
  let hi = COARSE_UPPER.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((COARSE_UPPER[mid] ?? 0) < fine) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The upper edge (ms) of a coarse bucket. */
export function coarseUpperMs(coarse: number): number {
  return bucketUpperMs(COARSE_UPPER[Math.min(coarse, COARSE_UPPER.length - 1)] ?? 0);
}

/** A fine histogram regrouped on the coarse grid. */
export function toCoarse(fine: Histogram): Histogram {
  const coarse: Histogram = new Map();
  for (const [bucket, n] of fine) addHistogram(coarse, coarseOf(bucket), n);
  return coarse;
}
