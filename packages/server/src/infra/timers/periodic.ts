/**
 * Background upkeep on a timer (the search index's pending list, embedded mode's vacuum): `task` every `intervalMs`,
 * never two at once (a turn that finds the last one still running is skipped), on a timer that does not keep the
 * process alive. The task handles its own errors.
 */
export class Periodic {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;

  constructor(private readonly task: () => Promise<unknown>) {}

  /** Starts the timer; 0 (or a timer already started) does nothing, leaving the task to be run by hand. */
  start(intervalMs: number): void {
    if (intervalMs <= 0 || this.timer) return;
    this.timer = setInterval(() => {
      if (this.running) return;
      this.running = this.task().finally(() => {
        this.running = undefined;
      });
    }, intervalMs);
    this.timer.unref();
  }

  /** Stops the timer; a run under way goes on. */
  cancel(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Stops the timer and waits for a run under way. */
  async stop(): Promise<void> {
    this.cancel();
    await this.running;
  }
}
