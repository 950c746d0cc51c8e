/** Polls `probe` until it returns something truthy (returned) or `timeoutMs` passes (throws). For tests. */
export async function waitFor<T>(probe: () => T | undefined | null | false, timeoutMs = 1_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}
