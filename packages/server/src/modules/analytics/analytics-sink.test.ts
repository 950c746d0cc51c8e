import { describe, it } from 'vitest';
import { expectDiesYoung } from '../../test/promotion.ts';

describe('factsOf', () => {
  it('makes facts that die young: nothing of a million messages is promoted to the old generation', async () => {
    // Built as `{ ...base, ...dims, type }`, V8 kept such objects through the scavenges (docs/performance.md, item 31).
    await expectDiesYoung(`
      import { factsOf } from '../modules/analytics/analytics-sink.ts';
      const conversation = { id: 'c0a80101-0000-4000-8000-000000000001', account_id: 'a0a80101-0000-4000-8000-000000000001', channel: 'web', device: 'desktop' };
      const at = new Date();
      let n = 0;
      for (let i = 0; i < 1_000_000; i++) {
        const batch = [
          ...factsOf(conversation, { type: 'message', role: 'consumer', skillId: null, agentId: 'x', queued: i % 5 === 0, responseMs: null, firstResponse: false }, at),
          ...factsOf(conversation, { type: 'message', role: 'agent', skillId: null, agentId: 'x', queued: false, responseMs: i, firstResponse: i % 3 === 0 }, at),
        ];
        n += batch.length;
      }
      console.log(n);
    `);
  }, 60_000);
});
