import type { ConversationSummary } from '@parley/protocol';

/**
 * A connection's conversation-list updates (`conversation` frames), written at most once per interval.
 *
 * Staff connections hear of every change to the conversations they may see, and an agent sees the whole unassigned
 * queue: in a burst (a campaign, the morning's backlog) each conversation changes two or three times (new, queued,
 * assigned) and every agent's socket got a write for each change, so a node with 200 agents spent most of its time in
 * `writev` (docs/performance.md, item 40). The first update after a quiet interval goes at once; later ones wait for
 * the interval's end and go together, each conversation once, with its latest summary (the list shows the latest
 * state anyway), in the order the conversations first changed.
 */
export class ListUpdates {
  private readonly pending = new Map<string, ConversationSummary>();
  private timer: NodeJS.Timeout | undefined;
  private lastFlush = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly intervalMs: number,
    private readonly deliver: (summary: ConversationSummary) => void,
    private readonly now: () => number = () => performance.now(),
  ) {}

  push(summary: ConversationSummary): void {
    this.pending.set(summary.id, summary);
    if (this.timer) return;
    const wait = this.lastFlush + this.intervalMs - this.now();
    if (wait <= 0) this.flush();
    else this.timer = setTimeout(this.flush, wait);
  }

  /** Drops what waits (the connection closed). */
  dispose(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.pending.clear();
  }

  private readonly flush = (): void => {
    this.timer = undefined;
    this.lastFlush = this.now();
    const summaries = [...this.pending.values()];
    this.pending.clear();
    for (const summary of summaries) this.deliver(summary);
  };
}
