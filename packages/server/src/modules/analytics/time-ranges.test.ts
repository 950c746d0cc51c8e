import { describe, expect, it } from 'vitest';
import { mergeRanges, subtractRanges, type TimeRange } from './time-ranges.ts';

const h = (hour: number) => new Date(Date.UTC(2026, 10, 23, hour));
const r = (a: number, b: number): TimeRange => [h(a), h(b)];

describe('time ranges of a report', () => {
  it('cuts the middle out of a range, and leaves ranges it does not touch', () => {
    expect(subtractRanges([r(0, 10)], [r(3, 5)])).toEqual([r(0, 3), r(5, 10)]);
    expect(subtractRanges([r(0, 10)], [r(10, 12)])).toEqual([r(0, 10)]);
    expect(subtractRanges([r(0, 10)], [r(0, 10)])).toEqual([]);
    expect(subtractRanges([r(0, 4), r(6, 10)], [r(2, 8)])).toEqual([r(0, 2), r(8, 10)]);
  });

  it('joins touching and overlapping ranges, in order, and drops empty ones', () => {
    expect(mergeRanges([r(5, 6), r(0, 2), r(2, 3), r(1, 2), r(7, 7)])).toEqual([r(0, 3), r(5, 6)]);
  });
});
