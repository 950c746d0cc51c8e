import { CompiledQuery, type Kysely, type QueryResult } from 'kysely';
import type pg from 'pg';
import type { Database as Schema } from './schema.ts';

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
 * A statement is declared once, as a constant: `preparedStatement(name, text)`, its parameters numbered in the text
 * (`$1`, `$2`, ...). Its text starts with a comment naming it; `prepareNamedStatements` makes every client of a pool
 * send such statements under that name (the driver refuses a second text under a known name, which a constant text
 * cannot give it). `run` hands the text and the values to Kysely as a compiled query: nothing is built or compiled
 * per execution (with a `sql` template, each execution assembled the text again, and the driver hook ran a regular
 * expression over it: together about 5% of what a node allocated per message at 1,000 msg/s, bench `--alloc-profile`).
 */
const PREFIX = '/*prepared:';
const NAME = /^[a-z0-9_.-]+$/;

/** A fixed statement, prepared once per connection; run it inside a transaction or on the database. */
export interface PreparedStatement<Row> {
  readonly name: string;
  readonly text: string;
  run(db: Kysely<Schema>, parameters: readonly unknown[]): Promise<QueryResult<Row>>;
}

export function preparedStatement<Row = never>(name: string, text: string): PreparedStatement<Row> {
  if (!NAME.test(name)) throw new Error(`bad prepared statement name: ${name}`);
  const marked = `${PREFIX}${name}*/ ${text}`;
  return {
    name,
    text: marked,
    run: (db, parameters) => db.executeQuery<Row>(CompiledQuery.raw(marked, [...parameters])),
  };
}

/** The name a statement's text carries, if it is one of ours. */
function nameOf(text: string): string | undefined {
  if (!text.startsWith(PREFIX)) return undefined;
  const end = text.indexOf('*/', PREFIX.length);
  return end > PREFIX.length ? text.slice(PREFIX.length, end) : undefined;
}

type QueryFn = (...args: unknown[]) => unknown;

/** Makes each client of `pool` send the statements made by `preparedStatement` as named statements. */
export function prepareNamedStatements(pool: pg.Pool): void {
  pool.on('connect', (client) => {
    // The driver's own `query`, looked up at each call (a test's spy on the prototype sees every statement).
    const query = (args: unknown[]) => (Object.getPrototypeOf(client) as { query: QueryFn }).query.apply(client, args);
    (client as unknown as { query: QueryFn }).query = (...args: unknown[]) => {
      const [text, values] = args;
      if (typeof text === 'string' && args.length === 2 && Array.isArray(values)) {
        const name = nameOf(text);
        if (name) return query([{ name, text, values }]);
      }
      return query(args);
    };
  });
}
