import { describe, expect, it } from 'vitest';
import { GroupCommit, type Settler } from './group-commit.ts';

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
  it('stores a lone item at once, as a batch of one', async () => {
    const { batches, store, releaseNext } = heldStore();
    const group = new GroupCommit(store, 100);
    const result = group.submit(1);
    // The store was called synchronously: nothing waits for a timer or for company.
    expect(batches).toEqual([[1]]);
    await releaseNext();
    await expect(result).resolves.toBe('stored 1');
  });

  it('gathers what arrives while a batch is stored into the next batch, in order, at most maxBatch at a time', async () => {
    const { batches, store, releaseNext } = heldStore();
    const group = new GroupCommit(store, 3);
    const results = [1, 2, 3, 4, 5, 6].map((n) => group.submit(n));
    expect(batches).toEqual([[1]]);
    await releaseNext();
    await releaseNext();
    await releaseNext();
    await expect(Promise.all(results)).resolves.toEqual([1, 2, 3, 4, 5, 6].map((n) => `stored ${n}`));
    expect(batches).toEqual([[1], [2, 3, 4], [5, 6]]);
  });

  it('gives each item its own outcome, and fails only the items a throwing store left unsettled', async () => {
    const group = new GroupCommit<number, number>(async (batch) => {
      for (const s of batch) {
        if (s.item === 2) s.fail(new Error('not a participant'));
        else if (s.item === 3) s.succeed(3);
      }
      throw new Error('storage failed');
    }, 10);
    const [first, ...rest] = [1, 2, 3, 4].map((n) => group.submit(n).then(String, (e: Error) => e.message));
    expect(await first).toBe('storage failed');
    expect(await Promise.all(rest)).toEqual(['not a participant', '3', 'storage failed']);
  });
});
