/// <reference path="./pg-utils.d.ts" />
import { CompiledQuery, type Kysely, type QueryResult } from 'kysely';
import type pg from 'pg';
import { prepareValue } from 'pg/lib/utils.js';
import type { Database as Schema } from './schema.ts';

/**
 * Named prepared statements for the hot path's fixed statements, and writes sent with the statement after them.
 *
 * The `pg` driver sends every statement unnamed, so PostgreSQL parses and plans it again each time: on the send path
 * that was a third of PostgreSQL's statement time (pg_stat_statements, docs/performance.md). A statement whose text
 * never changes (its lists passed as arrays in sub-selects, `unnest((select $1::uuid[]), …)`, batch-rows.ts) can be
 * prepared once per connection instead and then only bound and executed, with a generic plan PostgreSQL keeps. Not
 * bare arrays: PostgreSQL sees their length, finds a plan for it cheaper than the generic one, and plans again at every
 * execution (ADR 16).
 *
 * A statement is declared once, as a constant: `preparedStatement(name, text)`, its parameters numbered in the text
 * (`$1`, `$2`, ...). Its text starts with a comment naming it; `prepareNamedStatements` makes every client of a pool
 * send such statements under that name (the driver refuses a second text under a known name, which a constant text
 * cannot give it). `run` hands the text and the values to Kysely as a compiled query: nothing is built or compiled
 * per execution (with a `sql` template, each execution assembled the text again, and the driver hook ran a regular
 * expression over it: together about 5% of what a node allocated per message at 1,000 msg/s, bench `--alloc-profile`).
 *
 * **Round trips.** Every statement is a round trip, and on a node that shares its core with PostgreSQL a round trip
 * costs CPU on both sides (about 80 µs on the benchmark's machine, node 55 and PostgreSQL 25, whatever the statement):
 * at 1,000 msg/s, with two sends a group commit, the batch's seven round trips were half of the node's CPU. The `pg`
 * driver has no pipeline mode, so the hook saves round trips where no answer is waited for (ADR 17):
 * - `runLater` is for a write whose answer nobody reads (routing's update, the analytics facts). Inside a transaction
 *   it is held and sent with the transaction's next statement, at the latest with its `commit`, as one simple-protocol
 *   query (`execute "name"(…); …; commit`); if it fails, that statement fails, and so does the transaction, which rolls
 *   back as if the write had failed at once. Outside a transaction it runs at once.
 * - A transaction's `begin` is held the same way, and goes with its first statement; a transaction that sent nothing
 *   sends nothing.
 * - `runAfterNext` is for a read whose answer is wanted, but not before the transaction's next statement: it is held
 *   and sent right after that statement, in its round trip, so it sees what that statement did (the locks it waited
 *   for); the answer comes as a `HeldRead`, settled when that round trip returns (routing's read of its rows goes with
 *   the group commit's row locks). Kysely runs one statement at a time on a transaction's connection, so the held
 *   read's own call returns at once and the answer travels beside it, in the `HeldRead` passed as an extra value that
 *   the hook takes off before anything is sent. Outside a transaction it runs at once.
 * Statements held are sent as `execute` of the same prepared statements (prepared first, on their own, where the
 * connection has not prepared them yet), their values as dollar-quoted literals converted as the driver converts
 * parameters; a rollback drops what is held, and a held read is then refused.
 */
const PREFIX = '/*prepared:';
const LATER_PREFIX = '/*prepared-later:';
const AFTER_NEXT_PREFIX = '/*prepared-after-next:';
const NAME = /^[a-z0-9_.-]+$/;

/** A fixed statement, prepared once per connection; run it inside a transaction or on the database. */
export interface PreparedStatement<Row> {
  readonly name: string;
  readonly text: string;
  run(db: Kysely<Schema>, parameters: readonly unknown[]): Promise<QueryResult<Row>>;
  /**
   * A write whose answer nobody reads: inside a transaction it is sent with the transaction's next statement (at the
   * latest its commit), and its failure fails that statement; outside one it runs at once.
   */
  runLater(db: Kysely<Schema>, parameters: readonly unknown[]): Promise<void>;
  /**
   * A read sent right after the transaction's next statement, in its round trip; outside a transaction it runs at
   * once. Await `result` only after that next statement.
   */
  runAfterNext(db: Kysely<Schema>, parameters: readonly unknown[]): Promise<HeldRead<Row>>;
}

/** The answer of a read held to go with the next statement: settled when that statement's round trip returns. */
export class HeldRead<Row> {
  readonly result: Promise<QueryResult<Row>>;
  private settle!: { resolve(result: QueryResult<Row>): void; reject(error: unknown): void };
  private settled = false;

  constructor() {
    this.result = new Promise<QueryResult<Row>>((resolve, reject) => {
      this.settle = { resolve, reject };
    });
    // Refused when its round trip fails: that statement's caller has the error; nobody may be left waiting here.
    this.result.catch(() => undefined);
  }

  get isSettled(): boolean {
    return this.settled;
  }

  resolve(result: QueryResult<Row>): void {
    this.settled = true;
    this.settle.resolve(result);
  }

  reject(error: unknown): void {
    this.settled = true;
    this.settle.reject(error);
  }
}

/** Every statement's text by name: a held statement is prepared from it on a connection that has not prepared it. */
const texts = new Map<string, string>();

export function preparedStatement<Row = never>(name: string, text: string): PreparedStatement<Row> {
  if (!NAME.test(name)) throw new Error(`bad prepared statement name: ${name}`);
  const marked = `${PREFIX}${name}*/ ${text}`;
  const known = texts.get(name);
  if (known !== undefined && known !== marked) throw new Error(`two prepared statements named ${name}`);
  texts.set(name, marked);
  // Without the hook (a pool it was not installed on), the held form is still the whole statement, run at once.
  const later = `${LATER_PREFIX}${name}*/ ${text}`;
  const afterNext = `${AFTER_NEXT_PREFIX}${name}*/ ${text}`;
  return {
    name,
    text: marked,
    run: (db, parameters) => db.executeQuery<Row>(CompiledQuery.raw(marked, [...parameters])),
    runLater: async (db, parameters) => {
      await db.executeQuery(CompiledQuery.raw(later, [...parameters]));
    },
    runAfterNext: async (db, parameters) => {
      const read = new HeldRead<Row>();
      await db.executeQuery(CompiledQuery.raw(afterNext, [...parameters, read]));
      if (!read.isSettled && !heldReads.has(read)) throw new Error(`${name}: a held read needs the prepared-statement hook on its pool`);
      return read;
    },
  };
}

/** The name a statement's text carries, and whether it may be held, if it is one of ours. */
function markOf(text: string): { name: string; later: boolean; afterNext: boolean } | undefined {
  const later = text.startsWith(LATER_PREFIX);
  const afterNext = !later && text.startsWith(AFTER_NEXT_PREFIX);
  if (!later && !afterNext && !text.startsWith(PREFIX)) return undefined;
  const start = later ? LATER_PREFIX.length : afterNext ? AFTER_NEXT_PREFIX.length : PREFIX.length;
  const end = text.indexOf('*/', start);
  return end > start ? { name: text.slice(start, end), later, afterNext } : undefined;
}

/** Held reads a hook has taken and not settled yet (for `runAfterNext` to tell a held read from a missing hook). */
const heldReads = new WeakSet<HeldRead<unknown>>();

/** `execute "name"(…)` with the values as literals, converted as the driver converts a statement's parameters. */
function executeText(name: string, values: readonly unknown[]): string {
  const literals = values.map((value) => {
    const prepared: unknown = prepareValue(value);
    if (prepared === null || prepared === undefined) return 'null';
    if (typeof prepared !== 'string') throw new TypeError(`a held statement's value must convert to text (${name})`);
    return dollarQuoted(prepared);
  });
  return `execute "${name}"${literals.length > 0 ? `(${literals.join(', ')})` : ''}`;
}

/** A dollar-quoted string constant, its tag one the text does not contain: nothing in the text is escaped or read. */
export function dollarQuoted(text: string): string {
  let tag = '$v$';
  for (let n = 1; text.includes(tag); n++) tag = `$v${n}$`;
  return `${tag}${text}${tag}`;
}

type QueryFn = (...args: unknown[]) => unknown;
type Result = { command: string | null; rowCount: number | null; rows: unknown[]; fields: unknown[] };

/** A statement held to go with the next one: its text, and the prepared statement it executes. */
interface Held {
  text: string;
  name?: string;
  /** A held read's answer, settled from this statement's result; it goes after the statement it is sent with. */
  read?: HeldRead<unknown>;
}

/** What the hook keeps per connection: whether a transaction is open, and what it holds to send with the next one. */
interface ConnectionState {
  inTransaction: boolean;
  held: Held[];
}

/** The driver's connection: which statements it has prepared, by name (the driver's own record, kept in step). */
interface DriverConnection {
  parsedStatements: Record<string, string | undefined>;
}

const BEGIN: Held = { text: 'begin' };

/** Refuses the held reads among `statements` (their round trip failed, or will never be sent). */
function refuseReads(statements: readonly Held[], error: unknown): void {
  for (const { read } of statements) {
    if (!read) continue;
    heldReads.delete(read);
    read.reject(error);
  }
}
const noAnswer = (command: string | null): Result => ({ command, rowCount: null, rows: [], fields: [] });

/**
 * Makes each client of `pool` send the statements made by `preparedStatement` as named statements, and hold a
 * transaction's `begin` and its `runLater` writes until its next statement (see above).
 */
export function prepareNamedStatements(pool: pg.Pool): void {
  const states = new WeakMap<pg.Client, ConnectionState>();
  pool.on('connect', (client) => {
    const state: ConnectionState = { inTransaction: false, held: [] };
    states.set(client, state);
    // The driver's own `query`, looked up at each call (a test's spy on the prototype sees every round trip).
    const query = (args: unknown[]) => (Object.getPrototypeOf(client) as { query: QueryFn }).query.apply(client, args) as Promise<Result | Result[]>;
    const connection = (client as unknown as { connection: DriverConnection }).connection;

    /** Prepares, each on its own, the named statements the connection has not prepared (once per connection). */
    const ensurePrepared = async (statements: readonly Held[]) => {
      for (const { name } of statements) {
        if (name === undefined || connection.parsedStatements[name] !== undefined) continue;
        const text = texts.get(name);
        if (text === undefined) throw new Error(`unknown prepared statement ${name}`);
        await query([`prepare "${name}" as ${text}`]);
        connection.parsedStatements[name] = text;
      }
    };
    /**
     * Sends the held writes, then `last`, then the held reads, in one round trip, and answers with `last`'s result.
     * The held reads go after `last` when it is one of ours, before it when it ends the transaction (a commit), and
     * stay held when there is no `last` (another statement follows on its own).
     */
    const sendHeld = async (last: Held | undefined, readsGo: 'after' | 'before' | 'stay' = 'after'): Promise<Result> => {
      const before = state.held.filter((h) => !h.read);
      const reads = state.held.filter((h) => h.read);
      let statements: Held[];
      if (!last) statements = before;
      else if (readsGo === 'after') statements = [...before, last, ...reads];
      else if (readsGo === 'before') statements = [...before, ...reads, last];
      else statements = [...before, last];
      state.held = readsGo === 'stay' ? reads : [];
      const lastIndex = last ? statements.indexOf(last) : statements.length - 1;
      let results: Result | Result[];
      try {
        await ensurePrepared(statements);
        results = await query([statements.map((s) => s.text).join(';\n')]);
      } catch (error) {
        refuseReads(statements, error);
        throw error;
      }
      const answers = Array.isArray(results) ? results : [results];
      statements.forEach((statement, i) => {
        const answer = answers[i];
        if (!statement.read) return;
        heldReads.delete(statement.read);
        if (answer) statement.read.resolve(answer as QueryResult<unknown>);
        else statement.read.reject(new Error('no answer to a held read'));
      });
      const answer = answers[lastIndex];
      if (!answer) throw new Error('no answer to statements sent together');
      return answer;
    };

    (client as unknown as { query: QueryFn }).query = (...args: unknown[]) => {
      const [text, values] = args;
      if (typeof text !== 'string' || args.length > 2 || (values !== undefined && !Array.isArray(values))) {
        // Kysely calls `query(text, values)`; the other forms (a callback, a config object) are the pool's own, never
        // on a connection inside a transaction.
        if (state.held.length > 0) return Promise.reject(new Error('statements are held on this connection and this call cannot carry them'));
        return query(args);
      }
      let parameters: readonly unknown[] = values ?? [];
      const read = parameters.at(-1);
      const heldRead = read instanceof HeldRead ? (read as HeldRead<unknown>) : undefined;
      if (heldRead) parameters = parameters.slice(0, -1);
      const bare = parameters.length === 0 && text.length <= 80 ? text.trim().toLowerCase() : '';
      if (bare === 'begin' && !state.inTransaction) {
        state.inTransaction = true;
        state.held.push(BEGIN);
        return Promise.resolve(noAnswer('BEGIN'));
      }
      if (bare === 'commit' || bare === 'rollback') {
        const begun = state.held[0] !== BEGIN;
        state.inTransaction = false;
        // A transaction whose begin was not sent yet has nothing on the server to end: a rollback drops what it held.
        if (bare === 'rollback' || state.held.length === 0 || (state.held.length === 1 && !begun)) {
          refuseReads(state.held, new Error('the transaction ended before its held read was sent'));
          state.held = [];
          return begun ? query([text]) : Promise.resolve(noAnswer(bare.toUpperCase()));
        }
        return sendHeld({ text: 'commit' }, 'before');
      }
      if (bare.startsWith('start transaction')) state.inTransaction = true;
      const mark = markOf(text);
      if (mark?.later && state.inTransaction) {
        state.held.push({ text: executeText(mark.name, parameters), name: mark.name });
        return Promise.resolve(noAnswer(null));
      }
      if (mark?.afterNext && heldRead) {
        if (state.inTransaction) {
          heldReads.add(heldRead);
          state.held.push({ text: executeText(mark.name, parameters), name: mark.name, read: heldRead });
          return Promise.resolve(noAnswer(null));
        }
        // Outside a transaction (nothing is held there): at once, as a plain prepared statement, its answer handed to the read.
        return (query([{ name: mark.name, text: texts.get(mark.name) ?? text, values: [...parameters] }]) as Promise<Result>).then(
          (result) => {
            heldRead.resolve(result as QueryResult<unknown>);
            return result;
          },
          (error: unknown) => {
            heldRead.reject(error);
            throw error;
          },
        );
      }
      if (state.held.length > 0) {
        if (mark) return sendHeld({ text: executeText(mark.name, parameters), name: mark.name });
        // Any other statement goes as it was given, after the held writes; held reads wait for one of ours (or commit).
        const writes = state.held.some((h) => !h.read);
        return (writes ? sendHeld(undefined, 'stay') : Promise.resolve()).then(() => query(args));
      }
      if (mark) return query([{ name: mark.name, text: texts.get(mark.name) ?? text, values: [...parameters] }]);
      return query(args);
    };
  });
  // A connection goes back to the pool after its transaction ended; nothing it held may reach the next user.
  pool.on('release', (_error: Error | undefined, client: pg.PoolClient) => {
    const state = states.get(client);
    if (state) {
      refuseReads(state.held, new Error('the connection went back to the pool before its held read was sent'));
      state.held = [];
      state.inTransaction = false;
    }
  });
}
