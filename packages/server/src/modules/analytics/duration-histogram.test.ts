import { describe, expect, it } from 'vitest';
import { bucketUpperMs, percentileMs } from './duration-histogram.ts';

describe('duration histogram', () => {
  it('reports whole seconds up to an hour exactly', () => {
    expect(bucketUpperMs(0)).toBe(0);
    expect(bucketUpperMs(90)).toBe(90_000);
    expect(bucketUpperMs(3600)).toBe(3_600_000);
  });

  it('grows by 5 % per bucket beyond an hour', () => {
    expect(bucketUpperMs(3601)).toBe(3_780_000);
    expect(bucketUpperMs(3602)).toBe(3_969_000);
  });

  it('takes the nearest-rank percentile', () => {
    const h = new Map([
      [10, 1],
      [20, 1],
      [30, 1],
      [40, 1],
    ]);
    expect(percentileMs(h, 0.5)).toBe(20_000);
    expect(percentileMs(h, 0.9)).toBe(40_000);
    expect(percentileMs(new Map(), 0.5)).toBeNull();
  });
});
