/**
 * The Node.js flags a Parley node runs with (`npm start` has the same in packages/server/package.json).
 *
 * `--max-semi-space-size=64` (MB): V8's young generation may grow to 3 × 64 MB instead of 3 × 16 MB. A busy node
 * allocates quickly and briefly (frames, query results, events); with the default, the scavenger ran so often that
 * garbage collection was 16% of a node's time at the benchmark's ceiling, and the ceiling rose 11% with this flag
 * (docs/performance.md). An idle node's young generation stays small: V8 grows it only under allocation pressure.
 *
 * `--no-allocation-site-pretenuring`: once V8 had seen a message path's objects survive (as a large batch in flight
 * across a scavenge makes them), it allocated them straight into the old generation, where they died in milliseconds
 * but kept younger objects alive through every scavenge until the next full collection. Without it, at 2,000 msg/s the node's collections over 10 ms fell from 25–33 to 0–5 in 20 s and
 * the p99 from 23–39 to 15–26 ms; the ceiling did not move (docs/performance.md, item 28). Not allowed in
 * NODE_OPTIONS.
 *
 * `--heap-growing-percent=300`: a full collection is due when the old generation has grown to 4 × what the last one
 * left (the most V8 itself ever allows), where V8 chose about 1.2–1.7 × for a busy node. Each full collection marks
 * the heap on helper threads, which take the core from the node and PostgreSQL beside it for 50–100 ms: at 1,000 msg/s
 * one came every 3–10 s, and the slowest 1% of messages were nearly all sent in those moments (p99 15–29 ms, p90
 * 3.5). With it they come every 20–40 s and the p99 was 8–10 ms (docs/performance.md, item 30). The price is memory:
 * the old generation may hold up to three times its live size in garbage between collections.
 */
export const SERVER_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=64', '--no-allocation-site-pretenuring', '--heap-growing-percent=300'];
