import type { ConversationEvent } from '@parley/protocol';

export interface FeedSource {
  /** Every event (whatever the audience) with from <= sequence (<= to), oldest first. */
  read(fromSeq: number, limit: number, toSeq?: number): Promise<ConversationEvent[]>;
}

const PAGE = 500;

/**
 * One client's view of one conversation: replays stored events from a sequence, then streams live ones, and
 * delivers each visible event exactly once, in sequence order.
 *
 * Live events arrive from the bus; they are processed on the same queue as the replay, so nothing overtakes it.
 * Anything at or below the high-water mark is a duplicate and dropped; anything beyond the next sequence means the
 * bus missed or reordered something, and the gap is read from the database (the truth) before going on.
 * Events the client may not see (internal notes for a consumer) advance the mark without being delivered.
 */
export class ConversationFeed {
  private highWater: number;
  private queue: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(
    readonly conversationId: string,
    fromSeq: number,
    private readonly source: FeedSource,
    private readonly visible: (event: ConversationEvent) => boolean,
    private readonly deliver: (event: ConversationEvent) => void,
    private readonly onError: (error: unknown) => void,
    private readonly onGap: () => void = () => {},
  ) {
    this.highWater = Math.max(0, fromSeq - 1);
  }

  get lastSequence(): number {
    return this.highWater;
  }

  /** Replays everything stored from the starting sequence. Live events that arrive meanwhile wait behind it. */
  replay(): Promise<void> {
    return this.enqueue(() => this.catchUp(undefined));
  }

  /** A live event from the bus. */
  push(event: ConversationEvent): void {
    void this.enqueue(async () => {
      if (event.sequence <= this.highWater) return;
      if (event.sequence > this.highWater + 1) {
        this.onGap();
        await this.catchUp(event.sequence);
      }
      if (event.sequence === this.highWater + 1) this.accept(event);
    });
  }

  close(): void {
    this.closed = true;
  }

  private async catchUp(toSeq: number | undefined): Promise<void> {
    for (;;) {
      const events = await this.source.read(this.highWater + 1, PAGE, toSeq);
      for (const event of events) {
        if (this.closed) return;
        if (event.sequence > this.highWater) this.accept(event);
      }
      if (events.length < PAGE) return;
    }
  }

  private accept(event: ConversationEvent): void {
    this.highWater = event.sequence;
    if (!this.closed && this.visible(event)) this.deliver(event);
  }

  private enqueue(task: () => Promise<void>): Promise<void> {
    const run = this.queue.then(() => (this.closed ? undefined : task()));
    this.queue = run.catch((error: unknown) => this.onError(error));
    return run;
  }
}
