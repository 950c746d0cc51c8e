import { afterEach, describe, expect, it, vi } from 'vitest';
import { newEventId } from './event-ids.ts';

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** The millisecond an id of version 7 carries in its first 48 bits. */
function msecsOf(id: string): number {
  return Number.parseInt(id.replace(/-/g, '').slice(0, 12), 16);
}

function expectStrictlyIncreasing(ids: string[]): void {
  expect(new Set(ids).size).toBe(ids.length);
  expect([...ids].sort()).toEqual(ids);
}

describe('newEventId', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('makes UUIDs of version 7 that carry the time they were made', () => {
    const before = Date.now();
    const id = newEventId();
    const after = Date.now();
    expect(id).toMatch(UUID_V7);
    expect(msecsOf(id)).toBeGreaterThanOrEqual(before);
    expect(msecsOf(id)).toBeLessThanOrEqual(after + 1);
  });

  it('makes ids that grow in the order they were made and never repeat, across many fills of its random pool', () => {
    const ids = Array.from({ length: 10_000 }, () => newEventId());
    for (const id of ids) expect(id).toMatch(UUID_V7);
    expectStrictlyIncreasing(ids);
  });

  it('keeps ids of one millisecond in order, and keeps growing when the clock steps back', () => {
    const now = vi.spyOn(Date, 'now').mockReturnValue(Date.UTC(2030, 0, 1));
    const sameMillisecond = Array.from({ length: 1_000 }, () => newEventId());
    now.mockReturnValue(Date.UTC(2029, 0, 1));
    const afterStepBack = Array.from({ length: 10 }, () => newEventId());
    const ids = [...sameMillisecond, ...afterStepBack];
    expectStrictlyIncreasing(ids);
    expect(new Set(ids.map(msecsOf))).toEqual(new Set([Date.UTC(2030, 0, 1)]));
  });

  it('differs in its random bits from one millisecond to the next', () => {
    const now = vi.spyOn(Date, 'now');
    const tails = Array.from({ length: 50 }, (_, i) => {
      now.mockReturnValue(Date.UTC(2031, 0, 1) + i);
      return newEventId().slice(24);
    });
    expect(new Set(tails).size).toBe(tails.length);
  });
});
