import { sql, type Transaction } from 'kysely';
import type { z } from 'zod';
import type { Clock } from '../../core/clock.ts';
import type { Db } from '../db/database.ts';
import type { Database } from '../db/schema.ts';
import type { Logger } from '../telemetry/logger.ts';

/**
 * A kind of background job: a queue name, the version of its payload, the payload's schema and the handler.
 * Handlers must be idempotent: a job runs at least once (a node that dies mid-job leaves it to another after the
 * lease), and at most once at a time.
 */
export interface JobDefinition<P> {
  queue: string;
  version: number;
  payload: z.ZodType<P>;
  maxAttempts?: number;
  /** Retry delay: base × 2^(attempt-1), capped, with ±20 % jitter. */
  backoff?: { baseMs: number; maxMs: number };
  handle(payload: P, context: { jobId: string; attempt: number }): Promise<void>;
}

export function defineJob<P>(definition: JobDefinition<P>): JobDefinition<P> {
  return definition;
}

export interface JobQueueOptions {
  nodeId: string;
  /** How long a claimed job belongs to its node before another may take it over. */
  leaseMs?: number;
  pollIntervalMs?: number;
  batchSize?: number;
  /** Finished jobs are kept this long for inspection, then deleted. */
  retainDoneMs?: number;
}

export interface JobHooks {
  onFinished?(queue: string, outcome: 'done' | 'retry' | 'failed', durationMs: number): void;
}

type Trx = Transaction<Database>;

/** How long a kick still looks for a job this node enqueued (longer than any transaction that enqueues one). */
const KICK_MEMORY_MS = 30_000;

/**
 * Durable background jobs in PostgreSQL (both modes): enqueued in the caller's transaction, so a job exists exactly
 * when the change that needs it committed; claimed with `FOR UPDATE SKIP LOCKED`, so every node can work the queue
 * and none runs a job another holds; retried with exponential back-off; ordered per key when asked.
 */
export class JobQueue {
  private readonly definitions = new Map<string, JobDefinition<unknown>>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<number> | undefined;
  private stopped = false;
  private readonly leaseMs: number;
  private readonly pollIntervalMs: number;
  private readonly batchSize: number;
  private readonly retainDoneMs: number;

  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly options: JobQueueOptions,
    private readonly hooks: JobHooks = {},
  ) {
    this.leaseMs = options.leaseMs ?? 30_000;
    this.pollIntervalMs = options.pollIntervalMs ?? 1_000;
    this.batchSize = options.batchSize ?? 10;
    this.retainDoneMs = options.retainDoneMs ?? 7 * 24 * 3600_000;
  }

  register<P>(definition: JobDefinition<P>): void {
    if (this.definitions.has(definition.queue)) throw new Error(`Job queue ${definition.queue} is registered twice`);
    this.definitions.set(definition.queue, definition as JobDefinition<unknown>);
  }

  /** Adds a job, inside the caller's transaction when one is given. The payload is checked against the schema. */
  async enqueue<P>(db: Db | Trx, definition: JobDefinition<P>, payload: P, options: { runAt?: Date; orderingKey?: string } = {}): Promise<string> {
    const parsed = definition.payload.parse(payload);
    const runAt = options.runAt ?? this.clock.now();
    const row = await db
      .insertInto('jobs')
      .values({
        queue: definition.queue,
        version: definition.version,
        payload: JSON.stringify(parsed),
        state: 'pending',
        ordering_key: options.orderingKey ?? null,
        run_at: runAt,
        max_attempts: definition.maxAttempts ?? 8,
        locked_by: null,
        last_error: null,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    if (runAt.getTime() <= this.clock.now().getTime()) this.remember(row.id);
    // Inside a transaction the job is not visible yet: the caller kicks after its commit.
    if (!db.isTransaction) this.wake();
    return row.id;
  }

  /**
   * Due jobs this node enqueued that no claim of its own has taken yet (id → when), oldest first: what a kick is for.
   * A job that another node claimed, or whose transaction rolled back, is forgotten after KICK_MEMORY_MS; the poll
   * finds what is due either way.
   */
  private readonly unclaimed = new Map<string, number>();

  private remember(id: string): void {
    if (this.unclaimed.size >= 10_000) {
      const oldest = this.unclaimed.keys().next();
      if (!oldest.done) this.unclaimed.delete(oldest.value);
    }
    this.unclaimed.set(id, performance.now());
  }

  /** Polls for due jobs until stopped. */
  start(): void {
    this.stopped = false;
    this.timer = setInterval(() => this.wake(), this.pollIntervalMs);
    this.timer.unref();
  }

  /** Stops polling and waits for the jobs in hand to finish. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }

  /**
   * Runs due jobs now rather than at the next poll: call it after committing a transaction that may have enqueued jobs
   * (an enqueue inside a transaction cannot wake the worker usefully, because the job is not visible until the commit).
   * It costs nothing unless this node enqueued a due job that it has not claimed yet: the conversation service kicks
   * after every transaction that stored events, most of which enqueue nothing.
   */
  kick(): void {
    const forgetBefore = performance.now() - KICK_MEMORY_MS;
    for (const [id, at] of this.unclaimed) {
      if (at >= forgetBefore) break;
      this.unclaimed.delete(id);
    }
    if (this.unclaimed.size > 0) this.wake();
  }

  private wakeAgain = false;

  private wake(): void {
    if (this.stopped || this.definitions.size === 0 || !this.timer) return;
    if (this.running) {
      // A claim may already have run without the job that woke us: look again when this round ends.
      this.wakeAgain = true;
      return;
    }
    this.wakeAgain = false;
    this.running = this.runDue()
      .catch((error: unknown) => {
        this.logger.error({ err: error }, 'job worker failed');
        return 0;
      })
      .finally(() => {
        this.running = undefined;
        if (this.wakeAgain) this.wake();
      });
  }

  /**
   * Claims the due jobs this node can run and runs them; returns how many ran. Repeats until a claim finds nothing:
   * a finished job may have unblocked the next one of its ordering key, which then runs now rather than at the next poll.
   */
  async runDue(): Promise<number> {
    let total = 0;
    for (;;) {
      const claimed = await this.claim();
      if (claimed.length === 0) break;
      await Promise.all(claimed.map((job) => this.run(job)));
      total += claimed.length;
      if (this.stopped) break;
    }
    if (total > 0) await this.prune();
    return total;
  }

  private async claim() {
    const queues = [...this.definitions.keys()];
    if (queues.length === 0) return [];
    const now = this.clock.now();
    const leaseUntil = new Date(now.getTime() + this.leaseMs);
    const result = await sql<{ id: string; queue: string; version: number; payload: unknown; attempts: number; max_attempts: number }>`
      with candidates as (
        select j.id from jobs j
        where j.queue in (${sql.join(queues)})
          and j.run_at <= ${now}
          and (j.state = 'pending' or (j.state = 'running' and j.locked_until <= ${now}))
          and (j.ordering_key is null or not exists (
            select 1 from jobs earlier
            where earlier.ordering_key = j.ordering_key and earlier.state in ('pending', 'running') and earlier.seq < j.seq
          ))
        order by j.run_at, j.seq
        limit ${this.batchSize}
        for update skip locked
      )
      update jobs set state = 'running', locked_by = ${this.options.nodeId}, locked_until = ${leaseUntil}, attempts = jobs.attempts + 1
      from candidates where jobs.id = candidates.id
      returning jobs.id, jobs.queue, jobs.version, jobs.payload, jobs.attempts, jobs.max_attempts`.execute(this.db);
    for (const row of result.rows) this.unclaimed.delete(row.id);
    return result.rows;
  }

  private async run(job: { id: string; queue: string; version: number; payload: unknown; attempts: number; max_attempts: number }): Promise<void> {
    const definition = this.definitions.get(job.queue);
    const started = performance.now();
    const log = this.logger.child({ jobId: job.id, queue: job.queue, attempt: job.attempts });
    try {
      if (!definition) throw new Error(`No handler for queue ${job.queue}`);
      if (job.version !== definition.version) throw new Error(`Payload version ${job.version} is not the handler's ${definition.version}`);
      await definition.handle(definition.payload.parse(job.payload), { jobId: job.id, attempt: job.attempts });
      await this.finish(job, { state: 'done', finished_at: this.clock.now(), last_error: null });
      this.hooks.onFinished?.(job.queue, 'done', performance.now() - started);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (job.attempts >= job.max_attempts) {
        log.error({ err: error }, 'job failed for good after its last attempt');
        await this.finish(job, { state: 'failed', finished_at: this.clock.now(), last_error: message.slice(0, 2000) });
        this.hooks.onFinished?.(job.queue, 'failed', performance.now() - started);
        return;
      }
      const backoff = definition?.backoff ?? { baseMs: 1_000, maxMs: 15 * 60_000 };
      const delay = Math.min(backoff.maxMs, backoff.baseMs * 2 ** (job.attempts - 1)) * (0.8 + Math.random() * 0.4);
      log.warn({ err: error, retryInMs: Math.round(delay) }, 'job failed; retrying later');
      await this.finish(job, { state: 'pending', run_at: new Date(this.clock.now().getTime() + delay), last_error: message.slice(0, 2000) });
      this.hooks.onFinished?.(job.queue, 'retry', performance.now() - started);
    }
  }

  /** Records the outcome, only if this node still holds the job (its lease was not taken over). */
  private async finish(job: { id: string; attempts: number }, values: { state: 'done' | 'failed' | 'pending'; finished_at?: Date; run_at?: Date; last_error: string | null }): Promise<void> {
    const updated = await this.db
      .updateTable('jobs')
      .set({ ...values, locked_by: null, locked_until: null })
      .where('id', '=', job.id)
      .where('locked_by', '=', this.options.nodeId)
      .where('attempts', '=', job.attempts)
      .executeTakeFirst();
    if (Number(updated.numUpdatedRows) === 0) this.logger.warn({ jobId: job.id }, 'job outcome not recorded: its lease passed to another node');
  }

  private async prune(): Promise<void> {
    await this.db
      .deleteFrom('jobs')
      .where('state', '=', 'done')
      .where('finished_at', '<', new Date(this.clock.now().getTime() - this.retainDoneMs))
      .execute();
  }

  /** Counts by state, for metrics and the admin. */
  async counts(): Promise<Record<string, number>> {
    const rows = await this.db
      .selectFrom('jobs')
      .select(['queue', 'state', (eb) => eb.fn.countAll<string>().as('n')])
      .groupBy(['queue', 'state'])
      .execute();
    return Object.fromEntries(rows.map((r) => [`${r.queue}:${r.state}`, Number(r.n)]));
  }
}
