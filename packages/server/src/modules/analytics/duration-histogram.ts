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
export function percentileMs(histogram: Histogram, p: number): number | null {
  let total = 0;
  for (const n of histogram.values()) total += n;
  if (total === 0) return null;
  const rank = Math.max(1, Math.ceil(p * total));
  let seen = 0;
  for (const bucket of [...histogram.keys()].sort((a, b) => a - b)) {
    seen += histogram.get(bucket) ?? 0;
    if (seen >= rank) return bucketUpperMs(bucket);
  }
  return null;
}
