/** Latency statistics for the benchmarks: nearest-rank percentiles over every sample (no histogram, no sampling). */

export interface LatencySummary {
  n: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
  mean: number;
}

/** Nearest-rank percentile of an ascending array: the smallest value with at least p% of the samples at or below it. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  if (p <= 0) return sorted[0] as number;
  // The epsilon keeps 99.9% of 1,000 (999.0000000000001 in floating point) at rank 999.
  const rank = Math.ceil((p / 100) * sorted.length - 1e-9);
  return sorted[Math.min(sorted.length, rank) - 1] as number;
}

export function summarize(values: readonly number[]): LatencySummary {
  const sorted = Float64Array.from(values).sort();
  let sum = 0;
  for (const v of sorted) sum += v;
  return {
    n: sorted.length,
    p50: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    p99: percentile(sorted, 99),
    p999: percentile(sorted, 99.9),
    max: sorted.length > 0 ? (sorted[sorted.length - 1] as number) : Number.NaN,
    mean: sorted.length > 0 ? sum / sorted.length : Number.NaN,
  };
}

/** The least-squares slope of y over x (NaN with fewer than two distinct x). */
export function slope(points: readonly { x: number; y: number }[]): number {
  const n = points.length;
  if (n < 2) return Number.NaN;
  let sx = 0;
  let sy = 0;
  for (const p of points) {
    sx += p.x;
    sy += p.y;
  }
  const mx = sx / n;
  const my = sy / n;
  let sxy = 0;
  let sxx = 0;
  for (const p of points) {
    sxy += (p.x - mx) * (p.y - my);
    sxx += (p.x - mx) ** 2;
  }
  return sxx === 0 ? Number.NaN : sxy / sxx;
}

/** The bucket bound of a Prometheus histogram's label set (`le="0.005"` in `kind="minor",le="0.005"`), as written. */
function leOf(labels: string): string | undefined {
  return /le="([^"]+)"/.exec(labels)?.[1];
}

/**
 * A quantile from the growth of a Prometheus histogram between two readings (cumulative counts by `le`, as
 * `counterByLabels` returns them: keys like `le="0.005"`): the upper bound of the first bucket holding at least q of
 * the observations made in between; Infinity when it is the last (`+Inf`), NaN when there were none.
 */
export function histogramQuantile(before: Record<string, number>, after: Record<string, number>, q: number): number {
  const buckets = Object.keys(after)
    .map((key) => ({ le: Number(leOf(key)?.replace('+Inf', 'Infinity')), count: (after[key] ?? 0) - (before[key] ?? 0) }))
    .filter((b) => !Number.isNaN(b.le))
    .sort((x, y) => x.le - y.le);
  const total = buckets.at(-1)?.count ?? 0;
  if (total <= 0) return Number.NaN;
  return buckets.find((b) => b.count >= q * total)?.le ?? Number.POSITIVE_INFINITY;
}

/** `12.3`, `0.84`, `1,234`: milliseconds with the precision that matters at their size; `-` for no data. */
export function formatMs(ms: number): string {
  if (!Number.isFinite(ms)) return '-';
  if (ms < 10) return ms.toFixed(2);
  if (ms < 100) return ms.toFixed(1);
  return Math.round(ms).toLocaleString('en-US');
}

/** `1,234` or `12.5` (rates and counts). */
export function formatNumber(value: number, digits = 0): string {
  if (!Number.isFinite(value)) return '-';
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** Left-aligned first column, right-aligned others; every row gets the widths of the widest cell of its column. */
export function table(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const row of rows) {
    for (const [i, cell] of row.entries()) widths[i] = Math.max(widths[i] ?? 0, cell.length);
  }
  return rows.map((row) => row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0))).join('  ')).join('\n');
}

/**
 * A labelled Prometheus histogram's cumulative bucket counts (keys like `kind="minor",le="0.01"`) summed over its other
 * labels, by `le` alone: the form `histogramQuantile` reads.
 */
export function bucketsByLe(counts: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [key, value] of Object.entries(counts)) {
    const le = leOf(key);
    if (le !== undefined) out[`le="${le}"`] = (out[`le="${le}"`] ?? 0) + value;
  }
  return out;
}

/** Where the slowest samples of a step fell in time: spread evenly, or bunched into a few stalls. */
export interface TailClustering {
  /** The latency at and above which a sample is in the tail (the step's percentile). */
  thresholdMs: number;
  /** Samples in the tail. */
  count: number;
  /** Windows of `windowMs` (by the time each sample was sent) holding at least one tail sample, and all windows. */
  windows: number;
  totalWindows: number;
  /** The most tail samples in one window, and that window's start (ms from the first sample). */
  worst: { count: number; atMs: number };
  /** The share of the tail in the `top` windows holding most of it. */
  topShare: number;
  top: number;
}

/**
 * Groups the samples at or above a percentile of their latency by the window they were sent in. A tail made by a
 * few stalls (a pause of the node, a slow commit) sits in a few windows; a tail made by queueing on a busy core is
 * spread over most of them.
 */
export function tailClustering(samples: readonly { at: number; ms: number }[], options: { percentile?: number; windowMs?: number; top?: number } = {}): TailClustering | undefined {
  const { percentile: p = 99, windowMs = 100, top = 5 } = options;
  if (samples.length === 0) return undefined;
  const sorted = Float64Array.from(samples, (s) => s.ms).sort();
  const thresholdMs = percentile(sorted, p);
  let first = Number.POSITIVE_INFINITY;
  let last = Number.NEGATIVE_INFINITY;
  for (const s of samples) {
    first = Math.min(first, s.at);
    last = Math.max(last, s.at);
  }
  const byWindow = new Map<number, number>();
  let count = 0;
  for (const s of samples) {
    if (s.ms < thresholdMs) continue;
    count += 1;
    const w = Math.floor((s.at - first) / windowMs);
    byWindow.set(w, (byWindow.get(w) ?? 0) + 1);
  }
  const ranked = [...byWindow].sort((x, y) => y[1] - x[1] || x[0] - y[0]);
  const [worstWindow, worstCount] = ranked[0] ?? [0, 0];
  const inTop = ranked.slice(0, top).reduce((sum, [, n]) => sum + n, 0);
  return {
    thresholdMs,
    count,
    windows: byWindow.size,
    totalWindows: Math.floor((last - first) / windowMs) + 1,
    worst: { count: worstCount, atMs: worstWindow * windowMs },
    topShare: count > 0 ? inTop / count : 0,
    top,
  };
}

/** A pause of the measuring process (a garbage collection): from `start` (same clock as the samples), `ms` long. */
export interface Pause {
  start: number;
  ms: number;
}

/**
 * How many samples of at least `thresholdMs` were in flight (from `at` to `at + ms`) while one of `pauses` went on:
 * the slow samples the measuring process's own pauses may have made slow, since it timestamps a receipt only once it
 * runs again.
 */
export function inFlightDuringPauses(samples: readonly { at: number; ms: number }[], thresholdMs: number, pauses: readonly Pause[]): number {
  let count = 0;
  for (const s of samples) {
    if (s.ms < thresholdMs) continue;
    const end = s.at + s.ms;
    if (pauses.some((p) => p.start < end && p.start + p.ms > s.at)) count += 1;
  }
  return count;
}
