import type { ConversationSummary } from '@parley/protocol';
import type { Principal } from '../../core/principal.ts';
import { type BusHandler, type BusMessage, type EventBus, topics, type Unsubscribe } from '../../infra/bus/event-bus.ts';

/** Conversations whose newest summary an account's feed remembers; past this it forgets them all (a bound, not a cache). */
const MAX_TRACKED_CONVERSATIONS = 50_000;

/** The connections of one account on this node, grouped by what of the account's messages they may want. */
class AccountFeed {
  /** Users and API keys: every message of the account (each connection decides what its principal may see). */
  readonly staff = new Set<BusHandler>();
  /** Consumers, by consumer id: the updates of their own conversations, and nothing else of the account's. */
  readonly consumers = new Map<string, Set<BusHandler>>();
  unsubscribe: Unsubscribe = () => {};
  /** The highest `lastSequence` of each conversation's summaries handed out here (`isStale`). */
  private readonly newest = new Map<string, number>();

  get size(): number {
    return this.staff.size + this.consumers.size;
  }

  /**
   * Whether a conversation's summary is older than one already handed out. A conversation's sequence only grows, so a
   * summary with a lower `lastSequence` was taken before: over Redis the summaries of one conversation published by
   * two nodes (the consumer's message queueing it on one, a routing pass assigning it on the other) can arrive here in
   * the other order, and the list would show the older state last (the conversation back in the queue when it is the
   * agent's), or lose the newer one when a burst's updates are written together (ListUpdates). Equal sequences pass:
   * changes without an event (an offer, a breach) do not move it.
   */
  isStale(summary: ConversationSummary): boolean {
    const newest = this.newest.get(summary.id);
    if (newest !== undefined && summary.lastSequence < newest) return true;
    if (newest === undefined && this.newest.size >= MAX_TRACKED_CONVERSATIONS) this.newest.clear();
    this.newest.set(summary.id, summary.lastSequence);
    return false;
  }

  handlersFor(message: BusMessage): Array<Iterable<BusHandler>> {
    if (message.kind !== 'conversation_updated') return [this.staff];
    const own = this.consumers.get(message.conversation.consumerId);
    return own ? [this.staff, own] : [this.staff];
  }
}

/**
 * The account topic, subscribed once per account on this node and shared by the account's connections.
 *
 * Every connection used to subscribe to its account's topic itself, so each update of a conversation (assigned,
 * transferred, closed) ran a handler per connection of the account: consumers' widgets included, the largest group by
 * far, although a consumer only ever hears about their own conversations. Here a consumer's connection is reached
 * through its consumer id, and only by the updates of that consumer's conversations; users' and API keys'
 * connections get every message, as before.
 */
export class AccountFeeds {
  private readonly accounts = new Map<string, AccountFeed>();

  constructor(
    private readonly bus: EventBus,
    private readonly onHandlerError: (error: unknown) => void,
  ) {}

  /** Starts handing `principal`'s account messages to `handler`; the returned function stops it. */
  join(principal: Principal, handler: BusHandler): Unsubscribe {
    const accountId = principal.accountId;
    let feed = this.accounts.get(accountId);
    if (!feed) {
      const created = new AccountFeed();
      created.unsubscribe = this.bus.subscribe(topics.account(accountId), (message) => this.dispatch(created, message));
      this.accounts.set(accountId, created);
      feed = created;
    }
    const group = principal.kind === 'consumer' ? groupOf(feed.consumers, principal.consumerId) : feed.staff;
    group.add(handler);
    const joined = feed;
    return () => {
      if (!group.delete(handler)) return;
      if (principal.kind === 'consumer' && group.size === 0) joined.consumers.delete(principal.consumerId);
      if (joined.size === 0 && this.accounts.get(accountId) === joined) {
        joined.unsubscribe();
        this.accounts.delete(accountId);
      }
    };
  }

  /** Accounts with a subscription on this node (for tests and metrics). */
  get accountCount(): number {
    return this.accounts.size;
  }

  private dispatch(feed: AccountFeed, message: BusMessage): void {
    if (message.kind === 'conversation_updated' && feed.isStale(message.conversation)) return;
    for (const group of feed.handlersFor(message)) {
      for (const handler of group) {
        try {
          handler(message);
        } catch (error) {
          this.onHandlerError(error);
        }
      }
    }
  }
}

function groupOf(groups: Map<string, Set<BusHandler>>, key: string): Set<BusHandler> {
  let group = groups.get(key);
  if (!group) {
    group = new Set();
    groups.set(key, group);
  }
  return group;
}
