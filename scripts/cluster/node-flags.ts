/**
 * The Node.js flags a Parley node runs with (`npm start` has the same in packages/server/package.json).
 *
 * `--max-semi-space-size=64` (MB): V8's young generation may grow to 3 × 64 MB instead of 3 × 16 MB. A busy node
 * allocates quickly and briefly (frames, query results, events); with the default, the scavenger ran so often that
 * garbage collection was 16% of a node's time at the benchmark's ceiling, and the ceiling rose 11% with this flag
 * (docs/performance.md). An idle node's young generation stays small: V8 grows it only under allocation pressure.
 */
export const SERVER_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=64'];
