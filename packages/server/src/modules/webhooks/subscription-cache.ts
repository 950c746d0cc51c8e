import type { WebhookEventType } from '@parley/protocol';

export interface ActiveSubscription {
  id: string;
  eventTypes: ReadonlySet<WebhookEventType>;
}

/** How long this node trusts what it loaded: changes made on another node reach this one within this delay. */
export const SUBSCRIPTION_CACHE_TTL_MS = 5_000;

/**
 * Each account's active webhook subscriptions, in memory, because the event sink runs for every stored event and an
 * account without subscriptions must cost no statement. An account is loaded once, then again at most every
 * `ttlMs`; a change on this node invalidates it at once. A load that started before an invalidation is not kept.
 */
export class SubscriptionCache<Handle> {
  private readonly entries = new Map<string, { subscriptions: readonly ActiveSubscription[]; loadedAt: number }>();
  private readonly generations = new Map<string, number>();

  constructor(
    private readonly load: (handle: Handle, accountId: string) => Promise<ActiveSubscription[]>,
    private readonly now: () => number = () => performance.now(),
    private readonly ttlMs: number = SUBSCRIPTION_CACHE_TTL_MS,
  ) {}

  /** The account's active subscriptions; loaded through `handle` (the caller's transaction) when missing or stale. */
  async get(handle: Handle, accountId: string): Promise<readonly ActiveSubscription[]> {
    const entry = this.entries.get(accountId);
    if (entry && this.now() - entry.loadedAt < this.ttlMs) return entry.subscriptions;
    const generation = this.generations.get(accountId) ?? 0;
    const loadedAt = this.now();
    const subscriptions = await this.load(handle, accountId);
    if ((this.generations.get(accountId) ?? 0) === generation) {
      if (this.entries.size >= 100_000) this.entries.clear();
      this.entries.set(accountId, { subscriptions, loadedAt });
    }
    return subscriptions;
  }

  invalidate(accountId: string): void {
    this.entries.delete(accountId);
    this.generations.set(accountId, (this.generations.get(accountId) ?? 0) + 1);
  }
}
