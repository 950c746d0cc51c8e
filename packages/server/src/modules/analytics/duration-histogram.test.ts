import { describe, expect, it } from 'vitest';
import { bucketUpperMs, COARSE_UPPER, coarseOf, coarseUpperMs, percentileMs, toCoarse } from './duration-histogram.ts';

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

  describe('the coarse grid of daily rollups', () => {
    it('keeps every second up to 30 s and round edges beyond', () => {
      expect(coarseUpperMs(coarseOf(0))).toBe(0);
      expect(coarseUpperMs(coarseOf(17))).toBe(17_000);
      expect(coarseUpperMs(coarseOf(31))).toBe(32_000);
      expect(coarseUpperMs(coarseOf(61))).toBe(65_000);
      expect(coarseUpperMs(coarseOf(90))).toBe(90_000);
      expect(coarseUpperMs(coarseOf(541))).toBe(560_000);
      expect(coarseUpperMs(coarseOf(3599))).toBe(3_600_000);
      expect(coarseUpperMs(coarseOf(3601))).toBe(bucketUpperMs(3601));
    });

    it('reports every duration at most 1 s above up to 30 s and at most 8.4 % above beyond', () => {
      for (let fine = 1; fine <= (COARSE_UPPER.at(-1) ?? 0); fine++) {
        const lowestMs = fine <= 3600 ? (fine - 1) * 1000 + 1 : bucketUpperMs(fine - 1) + 1;
        const reported = coarseUpperMs(coarseOf(fine));
        expect(reported).toBeGreaterThanOrEqual(bucketUpperMs(fine));
        if (fine <= 30) expect(reported - lowestMs).toBeLessThan(1000);
        else expect(reported / lowestMs).toBeLessThan(1.084);
      }
    });

    it('regroups a per-second histogram without losing a count', () => {
      const coarse = toCoarse(
        new Map([
          [61, 2],
          [64, 1],
          [65, 1],
          [66, 3],
        ]),
      );
      expect(coarse).toEqual(
        new Map([
          [coarseOf(65), 4],
          [coarseOf(66), 3],
        ]),
      );
      expect(percentileMs(coarse, 0.5, coarseUpperMs)).toBe(65_000);
    });
  });
});
