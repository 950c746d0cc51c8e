import type { ConversationEvent } from '@parley/protocol';
import { describe, expect, it } from 'vitest';
import { ConversationFeed } from './conversation-feed.ts';

const conversationId = '00000000-0000-4000-8000-000000000001';
function event(sequence: number, audience: 'all' | 'agents_and_managers' = 'all'): ConversationEvent {
  return {
    id: `00000000-0000-4000-8000-${String(sequence).padStart(12, '0')}`,
    conversationId,
    sequence,
    type: 'content',
    clientMessageId: null,
    originator: { id: conversationId, role: 'consumer', name: null },
    audience,
    createdAt: new Date(0).toISOString(),
    content: { contentType: 'text/plain', message: `m${sequence}` },
  };
}

function setup(stored: ConversationEvent[], fromSeq = 1, visible = (_e: ConversationEvent) => true) {
  const delivered: number[] = [];
  const reads: Array<[number, number | undefined]> = [];
  let gaps = 0;
  const feed = new ConversationFeed(
    conversationId,
    fromSeq,
    {
      read: async (from, limit, to) => {
        reads.push([from, to]);
        await new Promise((r) => setTimeout(r, 5));
        return stored.filter((e) => e.sequence >= from && (to === undefined || e.sequence <= to)).slice(0, limit);
      },
    },
    visible,
    (e) => delivered.push(e.sequence),
    (error) => {
      throw error;
    },
    () => gaps++,
  );
  return { feed, delivered, reads, gaps: () => gaps };
}

const settle = () => new Promise((r) => setTimeout(r, 30));

describe('ConversationFeed', () => {
  it('replays stored events from the requested sequence, then live ones', async () => {
    const stored = [1, 2, 3, 4].map((s) => event(s));
    const { feed, delivered } = setup(stored, 3);
    await feed.replay();
    stored.push(event(5));
    feed.push(event(5));
    await settle();
    expect(delivered).toEqual([3, 4, 5]);
  });

  it('delivers an event once when it arrives live during the replay', async () => {
    const stored = [1, 2, 3].map((s) => event(s));
    const { feed, delivered } = setup(stored);
    const replay = feed.replay();
    feed.push(event(3)); // committed just before the replay read it
    await replay;
    await settle();
    expect(delivered).toEqual([1, 2, 3]);
  });

  it('reads a gap from the store when the bus skips a sequence', async () => {
    const stored = [1, 2, 3, 4, 5].map((s) => event(s));
    const { feed, delivered, gaps } = setup(stored, 4);
    await feed.replay();
    stored.push(event(6), event(7));
    feed.push(event(7)); // 6 was lost on the bus
    await settle();
    feed.push(event(6)); // ...or arrives late: dropped as a duplicate
    await settle();
    expect(delivered).toEqual([4, 5, 6, 7]);
    expect(gaps()).toBe(1);
  });

  it('advances past events the client may not see without treating them as gaps', async () => {
    const stored = [event(1), event(2, 'agents_and_managers'), event(3)];
    const { feed, delivered, gaps } = setup(stored, 1, (e) => e.audience === 'all');
    await feed.replay();
    stored.push(event(4, 'agents_and_managers'), event(5));
    feed.push(event(4, 'agents_and_managers'));
    feed.push(event(5));
    await settle();
    expect(delivered).toEqual([1, 3, 5]);
    expect(gaps()).toBe(0);
    expect(feed.lastSequence).toBe(5);
  });

  it('pages through a long history', async () => {
    const stored = Array.from({ length: 1203 }, (_, i) => event(i + 1));
    const { feed, delivered, reads } = setup(stored);
    await feed.replay();
    expect(delivered).toHaveLength(1203);
    expect(reads.length).toBe(3);
  });

  it('stops delivering once closed', async () => {
    const stored = [event(1)];
    const { feed, delivered } = setup(stored);
    await feed.replay();
    feed.close();
    feed.push(event(2));
    await settle();
    expect(delivered).toEqual([1]);
  });
});
