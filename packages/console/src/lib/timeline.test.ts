import { describe, expect, it } from 'vitest';
import { awaitingSince, lastAckByConsumer, mergeEvents, previewOf, unreadCount } from './timeline.ts';
import { message, receipt } from './test-events.ts';

describe('unread counting', () => {
  it('counts consumer messages after the last sequence an agent marked read', () => {
    const events = [message(1, 'consumer', 'hi'), message(2, 'consumer', 'anyone?'), receipt(3, 'assigned_agent', 'read', [1]), message(4, 'consumer', 'hello?')];
    expect(unreadCount(events)).toBe(2);
    expect(unreadCount([...events, receipt(5, 'assigned_agent', 'read', [2, 4])])).toBe(0);
  });

  it("ignores the agents' own messages, internal notes and the consumer's receipts", () => {
    const events = [message(1, 'assigned_agent', 'Hello'), message(2, 'assigned_agent', 'note', 'agents_and_managers'), receipt(3, 'consumer', 'read', [1, 2])];
    expect(unreadCount(events)).toBe(0);
  });
});

describe('waiting time', () => {
  it('starts at the oldest consumer message nobody answered', () => {
    const events = [message(1, 'consumer', 'a'), message(2, 'assigned_agent', 'b'), message(3, 'consumer', 'c'), message(4, 'consumer', 'd')];
    expect(awaitingSince(events)).toBe(events[2]?.createdAt);
  });

  it('is null once answered; an internal note is not an answer', () => {
    expect(awaitingSince([message(1, 'consumer', 'a'), message(2, 'bot', 'b')])).toBeNull();
    const noted = [message(1, 'consumer', 'a'), message(2, 'assigned_agent', 'note', 'agents_and_managers')];
    expect(awaitingSince(noted)).toBe(noted[0]?.createdAt);
  });
});

describe('timeline merging', () => {
  it('orders by sequence and keeps each sequence once', () => {
    const merged = mergeEvents([message(2, 'consumer', 'b'), message(3, 'consumer', 'c')], [message(1, 'consumer', 'a'), message(3, 'consumer', 'c')]);
    expect(merged.map((e) => e.sequence)).toEqual([1, 2, 3]);
  });

  it('returns the same array when nothing is new, so React skips the render', () => {
    const existing = [message(1, 'consumer', 'a')];
    expect(mergeEvents(existing, [message(1, 'consumer', 'a')])).toBe(existing);
  });
});

describe('receipts and previews', () => {
  it("reads the consumer's delivered and read marks; read implies delivered", () => {
    const events = [message(1, 'assigned_agent', 'a'), receipt(2, 'consumer', 'accept', [1]), message(3, 'assigned_agent', 'b'), receipt(4, 'consumer', 'read', [3])];
    expect(lastAckByConsumer(events, 'accept')).toBe(3);
    expect(lastAckByConsumer(events.slice(0, 3), 'read')).toBe(0);
  });

  it('previews text and files', () => {
    expect(previewOf(message(1, 'consumer', 'Where is my order?'))).toBe('Where is my order?');
  });
});
