import { describe, expect, it } from 'vitest';
import { expectDiesYoung } from '../../test/promotion.ts';
import { toWireEvent } from './event-mapping.ts';

const row = {
  id: '7b0c3c52-2a6a-4d8e-9d3e-0f5c1f0a9e11',
  conversation_id: 'c0a80101-0000-4000-8000-000000000001',
  account_id: 'a0a80101-0000-4000-8000-000000000001',
  seq: 42,
  type: 'content',
  originator_id: 'b0a80101-0000-4000-8000-000000000001',
  originator_role: 'consumer',
  originator_name: 'Ada',
  audience: 'all' as const,
  client_message_id: 'm-1',
  payload: { content: { contentType: 'text/plain', message: 'Where is my order?' } },
  created_at: new Date('2026-12-07T10:00:00.000Z'),
};

describe('toWireEvent', () => {
  it('gives the common fields, the clientMessageId of a message and its payload', () => {
    expect(toWireEvent(row)).toEqual({
      id: row.id,
      conversationId: row.conversation_id,
      sequence: 42,
      originator: { id: row.originator_id, role: 'consumer', name: 'Ada' },
      audience: 'all',
      createdAt: '2026-12-07T10:00:00.000Z',
      type: 'content',
      clientMessageId: 'm-1',
      content: { contentType: 'text/plain', message: 'Where is my order?' },
    });
    expect(toWireEvent({ ...row, type: 'participant_joined', client_message_id: null, payload: { role: 'agent' } })).not.toHaveProperty('clientMessageId');
  });

  it('makes events that die young: nothing of a million is promoted to the old generation', async () => {
    // Built by spreading into a literal (`{ ...base, ...payload }`), V8 kept such objects through the scavenges:
    // about 400 MB promoted for this loop, every scavenge long.
    await expectDiesYoung(`
      import { toWireEvent } from '../modules/conversations/event-mapping.ts';
      const row = ${JSON.stringify(row)};
      const created = new Date(row.created_at);
      let n = 0;
      for (let i = 0; i < 1_000_000; i++) {
        const batch = [];
        for (let k = 0; k < 4; k++) batch.push(toWireEvent({ ...row, seq: i, created_at: created }));
        n += batch.length;
      }
      console.log(n);
    `);
  }, 60_000);
});
