import type { BusinessHours } from '@parley/protocol';
import { describe, expect, it } from 'vitest';
import { isWithinBusinessHours, localTime } from './business-hours.ts';

const weekdays9to17: BusinessHours = {
  timeZone: 'Europe/Paris',
  weekly: [1, 2, 3, 4, 5].map((day) => ({ day, open: '09:00', close: '17:00' })),
  holidays: ['2026-12-25'],
};

describe('business hours', () => {
  it('are always open when a skill has none', () => {
    expect(isWithinBusinessHours(null, new Date('2026-12-25T03:00:00Z'))).toBe(true);
  });

  it('read the clock in the skill’s time zone, not UTC', () => {
    // Monday 23 November 2026, 08:30 UTC is 09:30 in Paris (CET, UTC+1).
    expect(localTime(new Date('2026-11-23T08:30:00Z'), 'Europe/Paris')).toEqual({ date: '2026-11-23', day: 1, time: '09:30' });
    expect(isWithinBusinessHours(weekdays9to17, new Date('2026-11-23T08:30:00Z'))).toBe(true);
    expect(isWithinBusinessHours(weekdays9to17, new Date('2026-11-23T07:59:00Z'))).toBe(false);
  });

  it('open at the opening minute and close at the closing minute', () => {
    expect(isWithinBusinessHours(weekdays9to17, new Date('2026-11-23T08:00:00Z'))).toBe(true);
    expect(isWithinBusinessHours(weekdays9to17, new Date('2026-11-23T16:00:00Z'))).toBe(false);
  });

  it('are closed at weekends and on holidays', () => {
    expect(isWithinBusinessHours(weekdays9to17, new Date('2026-11-22T10:00:00Z'))).toBe(false); // Sunday
    expect(isWithinBusinessHours(weekdays9to17, new Date('2026-12-25T10:00:00Z'))).toBe(false); // Friday, Christmas
    expect(isWithinBusinessHours(weekdays9to17, new Date('2026-12-24T10:00:00Z'))).toBe(true);
  });

  it('follow daylight saving time', () => {
    // 1 July: Paris is UTC+2, so 07:30 UTC is 09:30 local.
    expect(isWithinBusinessHours(weekdays9to17, new Date('2026-07-01T07:30:00Z'))).toBe(true);
    expect(isWithinBusinessHours(weekdays9to17, new Date('2026-07-01T15:30:00Z'))).toBe(false);
  });
});
