import { type RawBuilder, sql } from 'kysely';
import type pg from 'pg';

/**
 * Named prepared statements for the hot path's fixed statements.
 *
 * The `pg` driver sends every statement unnamed, so PostgreSQL parses and plans it again each time: on the send path
 * that was a third of PostgreSQL's statement time (pg_stat_statements, docs/performance.md). A statement whose text
 * never changes (its lists passed as one JSON parameter, `json_array_elements_text($1::json)`,
 * `json_to_recordset($1::json)`) can be prepared once per connection instead and then only bound and executed, with a
 * generic plan PostgreSQL keeps. Not arrays: PostgreSQL sees an array's length, finds a plan for it cheaper than the
 * generic one, and plans again at every execution (ADR 16).
 *
 * A statement opts in by starting with `prepared('name')`, a comment naming it; `prepareNamedStatements` makes every
 * client of a pool send such statements under that name. A name must always go with the same text: the driver
 * refuses a second text under a known name.
 */
const MARK = /^\/\*prepared:([a-z0-9_.-]+)\*\//;

export function prepared(name: string): RawBuilder<unknown> {
  if (!/^[a-z0-9_.-]+$/.test(name)) throw new Error(`bad prepared statement name: ${name}`);
  return sql.raw(`/*prepared:${name}*/`);
}

type QueryFn = (...args: unknown[]) => unknown;

/** Makes each client of `pool` send the statements marked by `prepared` as named statements. */
export function prepareNamedStatements(pool: pg.Pool): void {
  pool.on('connect', (client) => {
    // The driver's own `query`, looked up at each call (a test's spy on the prototype sees every statement).
    const query = (args: unknown[]) => (Object.getPrototypeOf(client) as { query: QueryFn }).query.apply(client, args);
    (client as unknown as { query: QueryFn }).query = (...args: unknown[]) => {
      const [text, values] = args;
      if (typeof text === 'string' && args.length === 2 && Array.isArray(values)) {
        const name = MARK.exec(text)?.[1];
        if (name) return query([{ name, text, values }]);
      }
      return query(args);
    };
  });
}
