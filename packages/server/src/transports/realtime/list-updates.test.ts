import type { ConversationSummary } from '@parley/protocol';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ListUpdates } from './list-updates.ts';

const summary = (id: string, status: string) => ({ id, routing: { status } }) as unknown as ConversationSummary;

describe('a connection’s conversation-list updates', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  function list(intervalMs = 100) {
    const written: string[] = [];
    const updates = new ListUpdates(
      intervalMs,
      (s) => written.push(`${s.id}:${(s.routing as { status: string }).status}`),
      () => Date.now(),
    );
    return { updates, written };
  }

  it('writes the first update after a quiet interval at once', () => {
    const { updates, written } = list();
    updates.push(summary('a', 'new'));
    expect(written).toEqual(['a:new']);
    vi.advanceTimersByTime(500);
    updates.push(summary('b', 'queued'));
    expect(written).toEqual(['a:new', 'b:queued']);
  });

  it('holds the updates of a burst to the end of the interval, each conversation once with its latest summary, in the order they first changed', () => {
    const { updates, written } = list();
    updates.push(summary('a', 'new'));
    vi.advanceTimersByTime(10);
    updates.push(summary('b', 'new'));
    updates.push(summary('a', 'queued'));
    updates.push(summary('c', 'queued'));
    updates.push(summary('b', 'queued'));
    updates.push(summary('a', 'assigned'));
    expect(written).toEqual(['a:new']);
    vi.advanceTimersByTime(89);
    expect(written).toEqual(['a:new']);
    vi.advanceTimersByTime(1);
    expect(written).toEqual(['a:new', 'b:queued', 'a:assigned', 'c:queued']);
    // The interval starts again from that write: an update right after it waits too.
    updates.push(summary('c', 'assigned'));
    expect(written).toHaveLength(4);
    vi.advanceTimersByTime(100);
    expect(written.at(-1)).toBe('c:assigned');
  });

  it('writes nothing after it is disposed', () => {
    const { updates, written } = list();
    updates.push(summary('a', 'new'));
    updates.push(summary('a', 'queued'));
    updates.dispose();
    vi.advanceTimersByTime(1_000);
    expect(written).toEqual(['a:new']);
  });

  it('writes every update at once with an interval of 0', () => {
    const { updates, written } = list(0);
    updates.push(summary('a', 'new'));
    updates.push(summary('a', 'queued'));
    expect(written).toEqual(['a:new', 'a:queued']);
  });
});
