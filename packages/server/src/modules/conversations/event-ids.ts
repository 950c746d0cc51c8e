import { randomFillSync } from 'node:crypto';
import { v7 } from 'uuid';

/** Ids made from one fill of the random pool: one call into OpenSSL for this many ids. */
const IDS_PER_FILL = 256;
const BYTES_PER_ID = 16;

const pool = new Uint8Array(IDS_PER_FILL * BYTES_PER_ID);
const poolView = new DataView(pool.buffer);
let nextInPool = IDS_PER_FILL;
/** The millisecond and the 32-bit counter of the last id, as the `uuid` library keeps them for its own calls. */
let lastMsecs = Number.NEGATIVE_INFINITY;
let lastSeq = 0;

/**
 * A new event's id: a UUID of version 7 (RFC 9562), whose first 48 bits are the time in milliseconds, the rest
 * random, ids made in the same millisecond in the order they were made.
 *
 * Events are the largest table and only ever appended to. With random ids (version 4) every insert lands on a random
 * leaf of the primary key's index, so the whole index is the working set, pages split half empty, and after each
 * checkpoint every leaf touched goes into the write-ahead log again as a full page. With ids that grow with time
 * inserts go to the index's right edge, where PostgreSQL skips the descent from the root and fills pages before it
 * splits them: measured apart on the benchmark's machine (300,000 events in batches of 100 into a table with the
 * events' indexes, after 300,000 more), 0.6–3.9 µs less of PostgreSQL's CPU a row and a primary key of 18 MB instead
 * of 23 (docs/performance.md, item 33; ADR 18). An id tells when its event was made, which the event says anyway
 * (`createdAt`).
 *
 * The random bits come from a pool filled 4 kB at a time: `v7()` called bare asks Web Crypto's `getRandomValues` for
 * 16 bytes per id, which costs 5–6.5 µs a call on Node 20 against 0.3 µs for the whole id this way (docs/performance.md,
 * item 34). The counter within a millisecond is the library's own rule (`updateV7State`): a random start each new
 * millisecond, one up for each further id, the clock pushed on a millisecond if the counter wraps.
 */
export function newEventId(): string {
  if (nextInPool === IDS_PER_FILL) {
    randomFillSync(pool);
    nextInPool = 0;
  }
  const start = nextInPool * BYTES_PER_ID;
  const random = pool.subarray(start, start + BYTES_PER_ID);
  nextInPool++;
  const now = Date.now();
  if (now > lastMsecs) {
    // The library's `v7Sequence`: bytes 6–9 of the random bits, big-endian, the top bit clear.
    lastSeq = poolView.getUint32(start + 6) & 0x7fffffff;
    lastMsecs = now;
  } else {
    lastSeq = (lastSeq + 1) | 0;
    if (lastSeq === 0) lastMsecs++;
  }
  return v7({ random, msecs: lastMsecs, seq: lastSeq });
}
