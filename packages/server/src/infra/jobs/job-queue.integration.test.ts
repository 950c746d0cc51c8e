import { afterEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { ManualClock } from '../../test/test-server.ts';
import { createTestDatabase, storageMode } from '../../test/test-database.ts';
import { type Database, openDatabase } from '../db/database.ts';
import { createLogger } from '../telemetry/logger.ts';
import { defineJob, JobQueue } from './job-queue.ts';

const logger = createLogger({ level: 'silent' });

describe(`durable jobs (${storageMode})`, () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function setup(nodes = 1) {
    const fresh = await createTestDatabase();
    const clock = new ManualClock(new Date('2026-11-23T12:00:00Z'));
    const databases: Database[] = [];
    for (let i = 0; i < (storageMode === 'embedded' ? 1 : nodes); i++) databases.push(await openDatabase(fresh.options, logger));
    cleanups.push(async () => {
      await Promise.all(databases.map((d) => d.close()));
      await fresh.drop();
    });
    const queues = databases.map((d, i) => new JobQueue(d.db, clock, logger, { nodeId: `node-${i}`, batchSize: 5 }));
    const first = databases[0];
    if (!first) throw new Error('no database');
    return { clock, queues, db: first.db };
  }

  it('runs a job enqueued in a transaction only once that transaction commits', async () => {
    const { queues, db } = await setup();
    const queue = queues[0] as JobQueue;
    const ran: string[] = [];
    const deliver = defineJob({ queue: 'deliver', version: 1, payload: z.object({ to: z.string() }), handle: async (p) => void ran.push(p.to) });
    queue.register(deliver);
    await db
      .transaction()
      .execute(async (trx) => {
        await queue.enqueue(trx, deliver, { to: 'rolled back' });
        throw new Error('the change failed');
      })
      .catch(() => {});
    await db.transaction().execute((trx) => queue.enqueue(trx, deliver, { to: 'committed' }));
    expect(await queue.runDue()).toBe(1);
    expect(ran).toEqual(['committed']);
    expect(await queue.runDue()).toBe(0);
    expect(await queue.counts()).toEqual({ 'deliver:done': 1 });
  });

  it('looks for jobs on a kick only when this node enqueued one it has not run yet, and never inside the enqueuing transaction', async () => {
    const { db } = await setup();
    const queue = new JobQueue(db, new ManualClock(new Date('2026-11-23T12:00:00Z')), logger, { nodeId: 'kicked', pollIntervalMs: 3_600_000 });
    const ran: string[] = [];
    const deliver = defineJob({ queue: 'deliver', version: 1, payload: z.object({ to: z.string() }), handle: async (p) => void ran.push(p.to) });
    queue.register(deliver);
    const claims = vi.spyOn(queue, 'runDue');
    queue.start();
    cleanups.push(() => queue.stop());
    // The conversation service kicks after every transaction that stored events; most enqueued nothing.
    queue.kick();
    expect(claims).not.toHaveBeenCalled();
    await db.transaction().execute((trx) => queue.enqueue(trx, deliver, { to: 'after the commit' }));
    expect(claims).not.toHaveBeenCalled();
    queue.kick();
    expect(claims).toHaveBeenCalledTimes(1);
    await vi.waitFor(() => expect(ran).toEqual(['after the commit']));
    await claims.mock.results[0]?.value;
    queue.kick();
    expect(claims).toHaveBeenCalledTimes(1);
  });

  it('retries a failing job with growing delays, and gives up after its last attempt', async () => {
    const { queues, clock, db } = await setup();
    const queue = queues[0] as JobQueue;
    let calls = 0;
    const flaky = defineJob({
      queue: 'flaky',
      version: 1,
      maxAttempts: 3,
      backoff: { baseMs: 1000, maxMs: 60_000 },
      payload: z.object({}),
      handle: async () => {
        calls += 1;
        throw new Error(`endpoint down (${calls})`);
      },
    });
    queue.register(flaky);
    await queue.enqueue(db, flaky, {});
    expect(await queue.runDue()).toBe(1);
    expect(await queue.runDue()).toBe(0); // not due yet
    clock.advance(1300);
    expect(await queue.runDue()).toBe(1);
    clock.advance(1300);
    expect(await queue.runDue()).toBe(0); // the second delay is about two seconds
    clock.advance(1300);
    expect(await queue.runDue()).toBe(1);
    expect(calls).toBe(3);
    clock.advance(3_600_000);
    expect(await queue.runDue()).toBe(0);
    expect(await queue.counts()).toEqual({ 'flaky:failed': 1 });
  });

  it('runs jobs with the same ordering key one at a time, in enqueue order, even when an earlier one must retry', async () => {
    const { queues, clock, db } = await setup();
    const queue = queues[0] as JobQueue;
    const ran: number[] = [];
    let failFirst = true;
    const ordered = defineJob({
      queue: 'ordered',
      version: 1,
      backoff: { baseMs: 1000, maxMs: 1000 },
      payload: z.object({ n: z.number() }),
      handle: async ({ n }) => {
        if (n === 1 && failFirst) {
          failFirst = false;
          throw new Error('first delivery fails once');
        }
        ran.push(n);
      },
    });
    queue.register(ordered);
    for (const n of [1, 2, 3]) await queue.enqueue(db, ordered, { n }, { orderingKey: 'conversation-1' });
    await queue.enqueue(db, ordered, { n: 10 }, { orderingKey: 'conversation-2' });
    await queue.runDue();
    expect(ran).toEqual([10]); // conversation-1 waits behind its failed head
    clock.advance(1300);
    while ((await queue.runDue()) > 0);
    expect(ran).toEqual([10, 1, 2, 3]);
  });

  it('takes over a job whose node died holding it, after the lease', async () => {
    const { queues, clock, db } = await setup();
    const queue = queues[0] as JobQueue;
    const ran: string[] = [];
    const job = defineJob({ queue: 'lease', version: 1, payload: z.object({}), handle: async () => void ran.push('ran') });
    queue.register(job);
    const id = await queue.enqueue(db, job, {});
    // A node claimed it and died before finishing.
    await db
      .updateTable('jobs')
      .set({ state: 'running', locked_by: 'dead-node', locked_until: new Date(clock.now().getTime() + 30_000), attempts: 1 })
      .where('id', '=', id)
      .execute();
    expect(await queue.runDue()).toBe(0);
    clock.advance(31_000);
    expect(await queue.runDue()).toBe(1);
    expect(ran).toEqual(['ran']);
  });

  it.skipIf(storageMode === 'embedded')('never runs one job on two nodes at once', async () => {
    const { queues, db } = await setup(3);
    const runs = new Map<number, number>();
    const job = defineJob({
      queue: 'shared',
      version: 1,
      payload: z.object({ n: z.number() }),
      handle: async ({ n }) => {
        runs.set(n, (runs.get(n) ?? 0) + 1);
        await new Promise((r) => setTimeout(r, 2));
      },
    });
    for (const q of queues) q.register(job);
    for (let n = 0; n < 60; n++) await queues[0]?.enqueue(db, job, { n });
    await Promise.all(
      queues.map(async (q) => {
        while ((await q.runDue()) > 0);
      }),
    );
    expect([...runs.values()].every((count) => count === 1)).toBe(true);
    expect(runs.size).toBe(60);
  });
});
