import { describe, expect, it } from 'vitest';
import { type BatchReport, GroupCommit, type Settler } from './group-commit.ts';

/** A store that records its batches and holds each until released. */
function heldStore() {
  const batches: number[][] = [];
  const releases: Array<() => void> = [];
  const store = async (batch: Array<Settler<number, string>>) => {
    batches.push(batch.map((s) => s.item));
    await new Promise<void>((resolve) => releases.push(resolve));
    for (const s of batch) s.succeed(`stored ${s.item}`);
  };
  const releaseNext = async () => {
    while (releases.length === 0) await new Promise((r) => setTimeout(r, 1));
    releases.shift()?.();
  };
  return { batches, store, releaseNext };
}

describe('group commit', () => {
  it('stores a lone item in the same turn of the event loop, as a batch of one', async () => {
    const { batches, store, releaseNext } = heldStore();
    const group = new GroupCommit(store, 100);
    const result = group.submit(1);
    // Not before the I/O callbacks of this turn (what arrived with it goes with it), but without a timer or company.
    expect(batches).toEqual([]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(batches).toEqual([[1]]);
    await releaseNext();
    await expect(result).resolves.toBe('stored 1');
  });

  it('gathers what arrives in one turn, then what arrives while a batch is stored, in order, at most maxBatch at a time', async () => {
    const { batches, store, releaseNext } = heldStore();
    const reports: BatchReport[] = [];
    const group = new GroupCommit(store, 3, 0, (report) => reports.push(report));
    const results = [1, 2].map((n) => group.submit(n));
    await new Promise((resolve) => setImmediate(resolve));
    results.push(...[3, 4, 5, 6, 7].map((n) => group.submit(n)));
    expect(batches).toEqual([[1, 2]]);
    await releaseNext();
    await releaseNext();
    await releaseNext();
    await expect(Promise.all(results)).resolves.toEqual([1, 2, 3, 4, 5, 6, 7].map((n) => `stored ${n}`));
    expect(batches).toEqual([
      [1, 2],
      [3, 4, 5],
      [6, 7],
    ]);
    // Each batch is reported once settled: its size, how long its oldest item waited to start, how long it took.
    expect(reports.map((r) => r.size)).toEqual([2, 3, 2]);
    expect(reports.every((r) => r.waitedMs >= 0 && r.storedMs > 0)).toBe(true);
    // 6 and 7, submitted with 3, 4 and 5, waited for the whole second batch too.
    expect(reports[2]?.waitedMs).toBeGreaterThanOrEqual(reports[1]?.storedMs ?? Number.POSITIVE_INFINITY);
  });

  it('gives each item its own outcome, and fails only the items a throwing store left unsettled', async () => {
    const group = new GroupCommit<number, number>(async (batch) => {
      for (const s of batch) {
        if (s.item === 2) s.fail(new Error('not a participant'));
        else if (s.item === 3) s.succeed(3);
      }
      throw new Error('storage failed');
    }, 10);
    const outcomes = [1, 2, 3, 4].map((n) => group.submit(n).then(String, (e: Error) => e.message));
    expect(await Promise.all(outcomes)).toEqual(['storage failed', 'not a participant', '3', 'storage failed']);
  });

  it('with a minimum interval, starts the next batch no sooner than that after the last one started, and a batch after a quiet spell at once', async () => {
    const starts: Array<{ items: number[]; at: number }> = [];
    const group = new GroupCommit<number, number>(
      async (batch) => {
        starts.push({ items: batch.map((s) => s.item), at: performance.now() });
        for (const s of batch) s.succeed(s.item);
      },
      100,
      40,
    );
    await group.submit(1);
    // Stored in a moment; the next send comes before 40 ms have passed, and waits for them, with what arrives meanwhile.
    const second = group.submit(2);
    await new Promise((resolve) => setTimeout(resolve, 10));
    const third = group.submit(3);
    await Promise.all([second, third]);
    expect(starts.map((s) => s.items)).toEqual([[1], [2, 3]]);
    // (A timer counts from the event loop's cached time: by performance.now() it may fire a millisecond or so early.)
    expect((starts[1]?.at ?? 0) - (starts[0]?.at ?? 0)).toBeGreaterThanOrEqual(37);
    // After a quiet spell longer than the interval, nothing waits.
    await new Promise((resolve) => setTimeout(resolve, 50));
    const submitted = performance.now();
    await group.submit(4);
    expect((starts[2]?.at ?? 0) - submitted).toBeLessThan(30);
  });
});
