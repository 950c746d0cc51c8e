/**
 * The storage's own commit rate, measured on the storage Parley uses, by a child process pinned where the Parley node
 * runs: single-row INSERTs each in its own transaction (autocommit: one commit, hence one WAL flush on PostgreSQL with
 * synchronous_commit on), one after another; then 100-row INSERTs, each its own transaction.
 *
 *   node --import tsx bench/lib/commit-probe.ts pglite <empty dir>     # PGlite in this process, like embedded mode
 *   node --import tsx bench/lib/commit-probe.ts postgres <url>         # over loopback, like cluster mode
 *
 * Prints one JSON line: { database, synchronousCommit, singleRowCommitsPerSecond, singleRowCommitLatency, batchRowsPerSecond,
 * batchCommitsPerSecond }. The single-row commits' latency (ms, each its own round trip and WAL flush) is the floor and
 * the jitter of the storage under the send path: a p99 of Parley's cannot be below what one commit takes here.
 */
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { summarize } from './stats.ts';

const SECONDS = Number(process.env.PROBE_SECONDS ?? 3);

interface Sql {
  query(text: string): Promise<{ rows: Record<string, unknown>[] }>;
  close(): Promise<void>;
}

async function open(kind: string, target: string): Promise<Sql> {
  if (kind === 'pglite') {
    const db = await PGlite.create(target);
    return { query: (text) => db.query<Record<string, unknown>>(text), close: () => db.close() };
  }
  if (kind === 'postgres') {
    const client = new pg.Client({ connectionString: target });
    await client.connect();
    return { query: (text) => client.query(text), close: () => client.end() };
  }
  throw new Error(`unknown database kind "${kind}" (pglite or postgres)`);
}

/** Calls `fn` one after another for SECONDS: the calls per second and each call's duration (ms). */
async function timed(fn: () => Promise<unknown>): Promise<{ perSecond: number; durations: number[] }> {
  const started = performance.now();
  const durations: number[] = [];
  for (let at = started; at - started < SECONDS * 1000; ) {
    await fn();
    const now = performance.now();
    durations.push(now - at);
    at = now;
  }
  return { perSecond: durations.length / ((performance.now() - started) / 1000), durations };
}

async function main(): Promise<void> {
  const [kind = '', target = ''] = process.argv.slice(2);
  const db = await open(kind, target);
  try {
    const version = String((await db.query('select version() as v')).rows[0]?.v ?? '');
    const synchronousCommit = String((await db.query('show synchronous_commit')).rows[0]?.synchronous_commit ?? '');
    await db.query('drop table if exists bench_commit_probe');
    await db.query('create table bench_commit_probe (id bigserial primary key, body text not null, created_at timestamptz not null default now())');
    const body = "'".concat('x'.repeat(150), "'");
    const single = await timed(() => db.query(`insert into bench_commit_probe (body) values (${body})`));
    const batch = `insert into bench_commit_probe (body) values ${Array.from({ length: 100 }, () => `(${body})`).join(',')}`;
    const batchCommitsPerSecond = (await timed(() => db.query(batch))).perSecond;
    await db.query('drop table bench_commit_probe');
    process.stdout.write(
      `${JSON.stringify({ database: version.split(' on ')[0], synchronousCommit, singleRowCommitsPerSecond: single.perSecond, singleRowCommitLatency: summarize(single.durations), batchRowsPerSecond: batchCommitsPerSecond * 100, batchCommitsPerSecond })}\n`,
    );
  } finally {
    await db.close();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`commit probe failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
