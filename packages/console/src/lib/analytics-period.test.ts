import { describe, expect, it } from 'vitest';
import { csvFileName, durationUnit, minutes, percent, periodRange, reportQuery } from './analytics-period.ts';

// Local time, whatever zone the tests run in: periods are computed in the browser's zone.
const now = new Date(2026, 11, 10, 15, 30);
const local = (y: number, m: number, d: number) => new Date(y, m, d).toISOString();

describe('analytics periods', () => {
  it('covers today by the hour, from local midnight to the next', () => {
    expect(periodRange('today', now)).toEqual({ from: local(2026, 11, 10), to: local(2026, 11, 11), interval: 'hour' });
  });

  it('covers the last 7 and 30 days, today included, by the day', () => {
    expect(periodRange('7d', now)).toEqual({ from: local(2026, 11, 4), to: local(2026, 11, 11), interval: 'day' });
    expect(periodRange('30d', now)).toEqual({ from: local(2026, 10, 11), to: local(2026, 11, 11), interval: 'day' });
  });

  it('takes custom days with both ends included, one day by the hour, and refuses a reversed range', () => {
    expect(periodRange('custom', now, { from: '2026-11-01', to: '2026-11-30' })).toEqual({ from: local(2026, 10, 1), to: local(2026, 11, 1), interval: 'day' });
    expect(periodRange('custom', now, { from: '2026-11-05', to: '2026-11-05' })?.interval).toBe('hour');
    expect(periodRange('custom', now, { from: '2026-11-05', to: '2026-11-01' })).toBeNull();
    expect(periodRange('custom', now, { from: '', to: '2026-11-01' })).toBeNull();
  });

  it('sends only the filters that are set', () => {
    const period = { from: local(2026, 11, 4), to: local(2026, 11, 11), interval: 'day' as const };
    expect(reportQuery(period, 'Europe/Paris', { skillId: 's', agentId: '', channel: undefined })).toEqual({ ...period, timeZone: 'Europe/Paris', skillId: 's' });
  });

  it('formats figures for tiles, charts and file names', () => {
    expect(minutes(90_000)).toBe(1.5);
    expect(minutes(null)).toBeNull();
    expect(percent(0.456)).toBe('46%');
    expect(percent(null)).toBe('—');
    expect(csvFileName({ from: local(2026, 11, 4), to: local(2026, 11, 11), interval: 'day' })).toBe('parley-report-2026-12-04-to-2026-12-10.csv');
  });

  it('charts durations in seconds while they are short, else in minutes', () => {
    const short = durationUnit([4_000, null, 95_000]);
    expect([short.name, short.of(4_250), short.of(null)]).toEqual(['seconds', 4.3, null]);
    const long = durationUnit([130_000]);
    expect([long.name, long.of(130_000)]).toEqual(['minutes', 2.2]);
  });
});
