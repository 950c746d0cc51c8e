/** What one batch was: its items, how long the oldest of them waited for it to start, how long it took (ms). */
export interface BatchReport {
  size: number;
  waitedMs: number;
  storedMs: number;
}

/**
 * Group commit: work submitted while a batch is being stored waits for it, then goes as the next batch, so concurrent
 * writers share one transaction (one commit, one WAL flush) instead of queueing for one each. Nothing waits for a timer
 * or for company when the store is idle: a batch starts in the same turn of the event loop (`setImmediate`, after the
 * I/O callbacks of that turn, so the frames that arrived together go together). That turn matters with PGlite, whose
 * queries complete without returning to the event loop: a batch stored in microtasks right away would always be
 * alone. One batch runs at a time, in submission order, so items submitted one after the other keep their order.
 */
export class GroupCommit<Item, Result> {
  private readonly waiting: Array<{ item: Item; at: number; resolve: (result: Result) => void; reject: (error: unknown) => void }> = [];
  private running = false;
  /** When the last batch started (performance.now()), for `minIntervalMs`. */
  private lastStart = Number.NEGATIVE_INFINITY;

  /**
   * @param store stores a batch, settling every item of it: each gets its own result or error (one item's failure is
   * not the others'). It must not throw; an error it throws fails the items it left unsettled.
   * @param maxBatch the most items in one batch (the rest go in the next).
   * @param minIntervalMs the least time from one batch's start to the next one's (0: none). Under steady load batches
   * otherwise run back to back whatever their size, and each costs its statements' round trips: a floor makes them
   * fewer and fuller. A batch after a quiet spell longer than this starts at once.
   * @param onBatch told of each batch once it is settled (metrics).
   */
  constructor(
    private readonly store: (batch: Array<Settler<Item, Result>>) => Promise<void>,
    private readonly maxBatch: number,
    private readonly minIntervalMs = 0,
    private readonly onBatch?: (report: BatchReport) => void,
  ) {}

  submit(item: Item): Promise<Result> {
    return new Promise<Result>((resolve, reject) => {
      this.waiting.push({ item, at: performance.now(), resolve, reject });
      if (!this.running) {
        this.running = true;
        setImmediate(() => void this.drain());
      }
    });
  }

  private async drain(): Promise<void> {
    try {
      while (this.waiting.length > 0) {
        const wait = this.lastStart + this.minIntervalMs - performance.now();
        if (wait > 0 && this.waiting.length < this.maxBatch) await new Promise((resolve) => setTimeout(resolve, wait));
        const started = performance.now();
        this.lastStart = started;
        const taken = this.waiting.splice(0, this.maxBatch);
        const batch = taken.map((w) => new Settler<Item, Result>(w.item, w.resolve, w.reject));
        try {
          await this.store(batch);
        } catch (error) {
          for (const s of batch) s.fail(error);
        }
        for (const s of batch) if (!s.settled) s.fail(new Error('group commit left an item unsettled'));
        this.onBatch?.({ size: batch.length, waitedMs: started - (taken[0]?.at ?? started), storedMs: performance.now() - started });
      }
    } finally {
      this.running = false;
    }
  }
}

/** One item of a batch and its outcome, settled once (later calls are ignored). */
export class Settler<Item, Result> {
  private done = false;

  constructor(
    readonly item: Item,
    private readonly resolve: (result: Result) => void,
    private readonly reject: (error: unknown) => void,
  ) {}

  get settled(): boolean {
    return this.done;
  }

  succeed(result: Result): void {
    if (this.done) return;
    this.done = true;
    this.resolve(result);
  }

  fail(error: unknown): void {
    if (this.done) return;
    this.done = true;
    this.reject(error);
  }
}
