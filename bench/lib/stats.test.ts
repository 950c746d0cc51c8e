import { describe, expect, it } from 'vitest';
import { bucketsByLe, formatMs, histogramQuantile, inFlightDuringPauses, percentile, slope, summarize, table, tailClustering } from './stats.ts';

describe('percentile', () => {
  it('is the nearest rank: the smallest value with at least p% of the samples at or below it', () => {
    const sorted = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    expect(percentile(sorted, 50)).toBe(5);
    expect(percentile(sorted, 90)).toBe(9);
    expect(percentile(sorted, 99)).toBe(10);
    expect(percentile(sorted, 100)).toBe(10);
    expect(percentile(sorted, 0)).toBe(1);
  });

  it('never interpolates, so p99 of 1,000 samples is the 990th', () => {
    const sorted = Array.from({ length: 1000 }, (_, i) => i + 1);
    expect(percentile(sorted, 99)).toBe(990);
    expect(percentile(sorted, 99.9)).toBe(999);
  });

  it('is NaN without samples', () => {
    expect(percentile([], 50)).toBeNaN();
  });
});

describe('summarize', () => {
  it('sorts numerically (not as strings) and gives count, percentiles, max and mean', () => {
    const s = summarize([10, 9, 100, 2, 1]);
    expect(s).toMatchObject({ n: 5, p50: 9, p99: 100, max: 100, mean: 24.4 });
  });

  it('gives NaN figures for no samples', () => {
    expect(summarize([])).toMatchObject({ n: 0, p50: Number.NaN, max: Number.NaN });
  });
});

describe('formatting', () => {
  it('shows milliseconds with the precision that matters at their size', () => {
    expect(formatMs(0.123)).toBe('0.12');
    expect(formatMs(42.36)).toBe('42.4');
    expect(formatMs(1234.5)).toBe('1,235');
    expect(formatMs(Number.NaN)).toBe('-');
  });

  it('aligns the first column left and the others right', () => {
    expect(
      table([
        ['a', '1'],
        ['long', '100'],
      ]),
    ).toBe('a       1\nlong  100');
  });
});

describe('slope', () => {
  it('is the marginal cost: a one-off step early on does not count as it does in the average', () => {
    // 10 kB a connection, plus 60 MB at once after the fourth batch (V8 growing its young generation).
    const batches = Array.from({ length: 20 }, (_, i) => ({ x: (i + 1) * 500, y: 170e6 + (i + 1) * 500 * 10_000 + (i >= 4 ? 60e6 : 0) }));
    expect(slope(batches.slice(10))).toBeCloseTo(10_000, 6);
    expect(slope([{ x: 1, y: 2 }])).toBeNaN();
    expect(
      slope([
        { x: 1, y: 2 },
        { x: 1, y: 3 },
      ]),
    ).toBeNaN();
  });
});

describe('histogramQuantile', () => {
  it("reads a quantile from what a Prometheus histogram counted between two readings, as its bucket's upper bound", () => {
    const before = { 'le="0.001"': 10, 'le="0.01"': 10, 'le="0.1"': 10, 'le="+Inf"': 10 };
    // In between: 90 observations up to 1 ms, 9 up to 10 ms, 1 up to 100 ms.
    const after = { 'le="0.001"': 100, 'le="0.01"': 109, 'le="0.1"': 110, 'le="+Inf"': 110 };
    expect(histogramQuantile(before, after, 0.5)).toBe(0.001);
    expect(histogramQuantile(before, after, 0.99)).toBe(0.01);
    expect(histogramQuantile(before, after, 1)).toBe(0.1);
    expect(histogramQuantile(after, { ...after, 'le="+Inf"': 111 }, 1)).toBe(Number.POSITIVE_INFINITY);
    expect(histogramQuantile(after, after, 0.5)).toBeNaN();
  });
});

describe('bucketsByLe', () => {
  it('sums a labelled histogram over its other labels, bucket by bucket', () => {
    const counts = { 'kind="minor",le="0.01"': 7, 'kind="minor",le="+Inf"': 9, 'kind="major",le="0.01"': 1, 'kind="major",le="+Inf"': 3 };
    expect(bucketsByLe(counts)).toEqual({ 'le="0.01"': 8, 'le="+Inf"': 12 });
    // Read as one histogram: 8 of the 12 pauses took at most 10 ms, the longest more than the last bound.
    expect(histogramQuantile({}, bucketsByLe(counts), 0.5)).toBe(0.01);
    expect(histogramQuantile({}, bucketsByLe(counts), 1)).toBe(Number.POSITIVE_INFINITY);
  });
});

describe('tailClustering', () => {
  const steady = (n: number, ms: (i: number) => number) => Array.from({ length: n }, (_, i) => ({ at: i, ms: ms(i) }));

  it('finds a tail made by one stall in the window of the stall', () => {
    // 1,000 samples a millisecond apart, 3 ms each, but those sent in 40 ms from 500 ms waited 50 ms.
    const t = tailClustering(
      steady(1000, (i) => (i >= 500 && i < 540 ? 50 : 3)),
      { percentile: 99, windowMs: 100 },
    );
    expect(t).toMatchObject({ thresholdMs: 50, count: 40, windows: 1, totalWindows: 10, worst: { count: 40, atMs: 500 }, topShare: 1 });
  });

  it('finds a tail made by queueing spread over most windows', () => {
    // Every tenth sample slow: the slowest 5% (all at 20 ms, so the 10% of them) fall in every window, none holding
    // more than its share.
    const t = tailClustering(
      steady(1000, (i) => (i % 10 === 0 ? 20 : 3)),
      { percentile: 95, windowMs: 100, top: 2 },
    );
    expect(t).toMatchObject({ count: 100, windows: 10, totalWindows: 10, worst: { count: 10 } });
    expect(t?.topShare).toBeCloseTo(0.2);
  });

  it('has nothing to say without samples', () => {
    expect(tailClustering([])).toBeUndefined();
  });
});

describe('inFlightDuringPauses', () => {
  it('counts the slow samples whose flight overlaps a pause, and no others', () => {
    const samples = [
      { at: 0, ms: 20 }, // slow, overlaps the pause at 15
      { at: 100, ms: 20 }, // slow, no pause between 100 and 120
      { at: 14, ms: 2 }, // in flight during the pause, but not slow
      { at: 196, ms: 12 }, // slow, ends as the second pause ends: overlaps
      { at: 211, ms: 12 }, // slow, starts just after the second pause: does not
    ];
    const pauses = [
      { start: 15, ms: 5 },
      { start: 200, ms: 10 },
    ];
    expect(inFlightDuringPauses(samples, 10, pauses)).toBe(2);
    expect(inFlightDuringPauses(samples, 10, [])).toBe(0);
  });
});
