import { describe, expect, it } from 'vitest';
import { type ActiveSubscription, SubscriptionCache } from './subscription-cache.ts';

function setup() {
  let clock = 0;
  const loads: string[] = [];
  const stored = new Map<string, ActiveSubscription[]>();
  const cache = new SubscriptionCache<'trx'>(
    async (_handle, accountId) => {
      loads.push(accountId);
      return stored.get(accountId) ?? [];
    },
    () => clock,
    5_000,
  );
  return { cache, loads, stored, advance: (ms: number) => (clock += ms) };
}

describe('the active subscriptions cache', () => {
  it('loads an account without subscriptions once, then answers from memory: no statement per event', async () => {
    const { cache, loads, advance } = setup();
    expect(await cache.get('trx', 'acc-1')).toEqual([]);
    for (let i = 0; i < 100; i++) {
      advance(10);
      expect(await cache.get('trx', 'acc-1')).toEqual([]);
    }
    expect(loads).toEqual(['acc-1']);
  });

  it('loads again after the delay, so a change made on another node is seen within it', async () => {
    const { cache, loads, stored, advance } = setup();
    await cache.get('trx', 'acc-1');
    stored.set('acc-1', [{ id: 's1', eventTypes: new Set(['conversation.message']) }]);
    advance(4_999);
    expect(await cache.get('trx', 'acc-1')).toEqual([]);
    advance(1);
    expect((await cache.get('trx', 'acc-1')).map((s) => s.id)).toEqual(['s1']);
    expect(loads).toEqual(['acc-1', 'acc-1']);
  });

  it('forgets an account at once when it changes on this node, and keeps no load that began before the change', async () => {
    const { cache, loads, stored } = setup();
    await cache.get('trx', 'acc-1');
    stored.set('acc-1', [{ id: 's1', eventTypes: new Set(['conversation.opened']) }]);
    cache.invalidate('acc-1');
    expect((await cache.get('trx', 'acc-1')).map((s) => s.id)).toEqual(['s1']);
    expect(loads).toHaveLength(2);

    // A load racing with an invalidation is used by its caller but not kept.
    const racing = cache.get('trx', 'acc-2');
    cache.invalidate('acc-2');
    await racing;
    await cache.get('trx', 'acc-2');
    expect(loads.filter((a) => a === 'acc-2')).toHaveLength(2);
  });
});
