import { afterEach, describe, expect, it, vi } from 'vitest';
import { Periodic } from './periodic.ts';

describe('a periodic task', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('runs at each interval, skips a turn while the last run is still going, and stop() waits for that run', async () => {
    vi.useFakeTimers();
    let runs = 0;
    let finish: (() => void) | undefined;
    const periodic = new Periodic(() => {
      runs += 1;
      return new Promise<void>((resolve) => {
        finish = resolve;
      });
    });
    periodic.start(100);
    await vi.advanceTimersByTimeAsync(100);
    expect(runs).toBe(1);
    await vi.advanceTimersByTimeAsync(300); // still running: these turns are skipped
    expect(runs).toBe(1);
    let stopped = false;
    const stopping = periodic.stop().then(() => {
      stopped = true;
    });
    await vi.advanceTimersByTimeAsync(0);
    expect(stopped).toBe(false);
    finish?.();
    await stopping;
    await vi.advanceTimersByTimeAsync(500);
    expect(runs).toBe(1); // no timer after stop
  });

  it('leaves the task to its caller at an interval of 0', async () => {
    vi.useFakeTimers();
    let runs = 0;
    const periodic = new Periodic(async () => {
      runs += 1;
    });
    periodic.start(0);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(runs).toBe(0);
    await periodic.stop();
  });
});
