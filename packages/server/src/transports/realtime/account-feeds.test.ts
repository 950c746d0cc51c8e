import type { ConversationSummary } from '@parley/protocol';
import { describe, expect, it } from 'vitest';
import type { Principal } from '../../core/principal.ts';
import type { BusMessage, EventBus } from '../../infra/bus/event-bus.ts';
import { createInProcessBus } from '../../infra/bus/in-process-bus.ts';
import { topics } from '../../infra/bus/event-bus.ts';
import { AccountFeeds } from './account-feeds.ts';

const ACCOUNT = 'acc-1';
const consumer = (consumerId: string): Principal => ({ kind: 'consumer', consumerId, accountId: ACCOUNT });
const agent: Principal = { kind: 'user', userId: 'agent-1', accountId: ACCOUNT, role: 'agent', name: 'Ada' };
const apiKey: Principal = { kind: 'api_key', apiKeyId: 'key-1', accountId: ACCOUNT, scopes: [] };

const summary = (conversationId: string, consumerId: string, lastSequence = 1) => ({ id: conversationId, consumerId, accountId: ACCOUNT, lastSequence }) as ConversationSummary;

function updated(conversationId: string, consumerId: string, lastSequence = 1): BusMessage {
  return { kind: 'conversation_updated', accountId: ACCOUNT, conversation: summary(conversationId, consumerId, lastSequence) };
}

/** A bus that counts its subscriptions to the account topic. */
function countingBus(): { bus: EventBus; subscribed: () => number } {
  const bus = createInProcessBus(() => {});
  let live = 0;
  return {
    bus: {
      ...bus,
      subscribe(topic, handler) {
        if (topic === topics.account(ACCOUNT)) live += 1;
        const unsubscribe = bus.subscribe(topic, handler);
        return () => {
          if (topic === topics.account(ACCOUNT)) live -= 1;
          unsubscribe();
        };
      },
    },
    subscribed: () => live,
  };
}

function listener() {
  const heard: BusMessage[] = [];
  return { heard, handler: (message: BusMessage) => heard.push(message) };
}

describe('the account topic shared by a node’s connections', () => {
  it("hands a consumer's connection the updates of its own conversations only, and users' connections every update", async () => {
    const { bus } = countingBus();
    const feeds = new AccountFeeds(bus, () => {});
    const ann = listener();
    const bob = listener();
    const ada = listener();
    const key = listener();
    feeds.join(consumer('ann'), ann.handler);
    feeds.join(consumer('bob'), bob.handler);
    feeds.join(agent, ada.handler);
    feeds.join(apiKey, key.handler);

    await bus.publish(topics.account(ACCOUNT), updated('c-ann', 'ann'));
    expect(ann.heard.map((m) => m.kind === 'conversation_updated' && m.conversation.id)).toEqual(['c-ann']);
    expect(bob.heard).toEqual([]);
    expect(ada.heard).toHaveLength(1);
    expect(key.heard).toHaveLength(1);
  });

  it('hands a consumer nothing else of the account: offers, agents’ states, routing changes, notices', async () => {
    const { bus } = countingBus();
    const feeds = new AccountFeeds(bus, () => {});
    const ann = listener();
    const ada = listener();
    feeds.join(consumer('ann'), ann.handler);
    feeds.join(agent, ada.handler);
    const others: BusMessage[] = [
      { kind: 'offer', accountId: ACCOUNT, agentId: 'agent-1', conversation: summary('c-ann', 'ann'), expiresAt: '2026-12-06T20:00:00.000Z' } as BusMessage,
      { kind: 'routing_changed', accountId: ACCOUNT },
      { kind: 'agent_state', accountId: ACCOUNT, agent: { userId: 'agent-1' } } as BusMessage,
    ];
    for (const message of others) await bus.publish(topics.account(ACCOUNT), message);
    expect(ann.heard).toEqual([]);
    expect(ada.heard.map((m) => m.kind)).toEqual(['offer', 'routing_changed', 'agent_state']);
  });

  it('reaches every connection of a consumer (two devices), and stops at the one that left', async () => {
    const { bus } = countingBus();
    const feeds = new AccountFeeds(bus, () => {});
    const phone = listener();
    const laptop = listener();
    feeds.join(consumer('ann'), phone.handler);
    const leave = feeds.join(consumer('ann'), laptop.handler);
    await bus.publish(topics.account(ACCOUNT), updated('c-ann', 'ann'));
    leave();
    await bus.publish(topics.account(ACCOUNT), updated('c-ann', 'ann'));
    expect(phone.heard).toHaveLength(2);
    expect(laptop.heard).toHaveLength(1);
  });

  it('subscribes to the bus once per account, and unsubscribes when the last connection leaves', async () => {
    const { bus, subscribed } = countingBus();
    const feeds = new AccountFeeds(bus, () => {});
    const leaves = [feeds.join(consumer('ann'), () => {}), feeds.join(consumer('bob'), () => {}), feeds.join(agent, () => {})];
    expect(subscribed()).toBe(1);
    for (const leave of leaves) leave();
    leaves[0]?.(); // leaving twice changes nothing
    expect(subscribed()).toBe(0);
    expect(feeds.accountCount).toBe(0);
    const again = listener();
    feeds.join(agent, again.handler);
    expect(subscribed()).toBe(1);
    await bus.publish(topics.account(ACCOUNT), { kind: 'routing_changed', accountId: ACCOUNT });
    expect(again.heard).toHaveLength(1);
  });

  it('keeps handing a message to the others when one connection’s handler throws', async () => {
    const { bus } = countingBus();
    const errors: unknown[] = [];
    const feeds = new AccountFeeds(bus, (error) => errors.push(error));
    const ada = listener();
    feeds.join(agent, () => {
      throw new Error('broken connection');
    });
    feeds.join(agent, ada.handler);
    await bus.publish(topics.account(ACCOUNT), { kind: 'routing_changed', accountId: ACCOUNT });
    expect(ada.heard).toHaveLength(1);
    expect(errors).toHaveLength(1);
  });

  it('drops a summary older than one already handed out (a lower lastSequence), as two nodes can publish them out of order', async () => {
    const { bus } = countingBus();
    const feeds = new AccountFeeds(bus, () => {});
    const ada = listener();
    feeds.join(agent, ada.handler);
    const heard = () => ada.heard.map((m) => (m.kind === 'conversation_updated' ? `${m.conversation.id}@${m.conversation.lastSequence}` : m.kind));
    // Assigned (the agent joined at sequence 3) on one node; the message that queued it (sequence 2) arrives after.
    await bus.publish(topics.account(ACCOUNT), updated('c-1', 'ann', 3));
    await bus.publish(topics.account(ACCOUNT), updated('c-1', 'ann', 2));
    // Another conversation is not held back by it; a change without an event (same sequence) passes.
    await bus.publish(topics.account(ACCOUNT), updated('c-2', 'bob', 1));
    await bus.publish(topics.account(ACCOUNT), updated('c-1', 'ann', 3));
    await bus.publish(topics.account(ACCOUNT), updated('c-1', 'ann', 4));
    expect(heard()).toEqual(['c-1@3', 'c-2@1', 'c-1@3', 'c-1@4']);
  });
});
