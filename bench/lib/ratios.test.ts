import { describe, expect, it } from 'vitest';
import { formatRatio, formatTimes } from './ratios.ts';

describe('formatTimes', () => {
  it('gives two significant digits below 1, one decimal up to 10, whole numbers above', () => {
    expect(formatTimes(0.1234)).toBe('0.12×');
    expect(formatTimes(0.0031)).toBe('0.0031×');
    expect(formatTimes(0)).toBe('0×');
    expect(formatTimes(1.25)).toBe('1.3×');
    expect(formatTimes(12.4)).toBe('12×');
    expect(formatTimes(Number.NaN)).toBe('-');
  });
});

describe('formatRatio', () => {
  it('prints the ratio and whether the target is met', () => {
    expect(formatRatio(201, 1701, 0.9)).toBe('0.12× (target ≥ 0.9×: not met)');
    expect(formatRatio(1800, 2000, 0.9)).toBe('0.9× (target ≥ 0.9×: met)');
    expect(formatRatio(30000, 100000, 0.2)).toBe('0.3× (target ≥ 0.2×: met)');
    expect(formatRatio(50, 100)).toBe('0.5×');
  });

  it('says which side is missing instead of dividing by nothing', () => {
    expect(formatRatio(undefined, 100, 0.9)).toBe('- (no Parley figure)');
    expect(formatRatio(100, undefined)).toBe('- (no reference figure)');
    expect(formatRatio(100, 0)).toBe('- (no reference figure)');
  });
});
