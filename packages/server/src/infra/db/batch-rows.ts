/**
 * A batch of rows as the parameters of one fixed statement: one array per column, unnested into rows by PostgreSQL.
 *
 * The send path's statements take every row of a group commit at once, with a text that never changes so it can be
 * prepared once per connection (ADR 16). The rows go as **one array per column**, each in a scalar sub-select:
 * `unnest((select $1::uuid[]), (select $2::text[]), …) as v (id, type, …)`.
 * - Arrays, not one JSON document (`json_to_recordset`): PostgreSQL 15 reads JSON a character at a time and builds a
 *   hash of the field names for every row; measured on the benchmark's machine, 20 µs of the server's CPU per row of
 *   eleven columns against 4.7 µs for the same rows as arrays (docs/performance.md, item 32).
 * - Each array in a sub-select: PostgreSQL looks into an array parameter when it plans for the values (`unnest` of a
 *   constant array counts its elements), finds that plan cheaper than the generic one and plans again at every
 *   execution. It does not look into a sub-select, so both plans assume 10 rows and the generic plan stays.
 * Each column goes as one array literal made here (`{"a","b\\"c",NULL}`: strings quoted, `"` and `\` escaped, dates
 * in ISO 8601, `json`/`jsonb` values written as JSON first), not as a JS array for the driver to convert: its
 * conversion, which escapes every element twice and formats dates field by field, took 3.0 µs of the node's CPU a row of
 * the store's eleven columns, this one 1.9 (one JSON text of the same rows: 0.8). A held statement's literal is the
 * same text.
 */
export interface BatchRows<Row> {
  /** `unnest(…) as alias (columns…)`, its parameters numbered from the one given. */
  readonly sql: string;
  /** The number of the first parameter after the batch's. */
  readonly nextParameter: number;
  /** The rows' values, one array literal per column in the declared order: the statement's parameters from the first one. */
  parameters(rows: readonly Row[]): string[];
}

/** A column of a batch: the row's property and its PostgreSQL type (`uuid`, `text`, `jsonb`, `timestamptz`, …). */
export type BatchColumn<Row> = readonly [column: keyof Row & string, type: string];

const IDENTIFIER = /^[a-z_][a-z0-9_]*$/;
const TYPE = /^[a-z_][a-z0-9_ ]*$/;

export function batchRows<Row>(alias: string, columns: ReadonlyArray<BatchColumn<Row>>, firstParameter = 1): BatchRows<Row> {
  for (const name of [alias, ...columns.map(([column]) => column)]) if (!IDENTIFIER.test(name)) throw new Error(`bad column or alias name: ${name}`);
  for (const [, type] of columns) if (!TYPE.test(type)) throw new Error(`bad column type: ${type}`);
  if (columns.length === 0) throw new Error('a batch has at least one column');
  const arrays = columns.map(([, type], i) => `(select $${firstParameter + i}::${type}[])`).join(', ');
  return {
    sql: `unnest(${arrays}) as ${alias} (${columns.map(([column]) => column).join(', ')})`,
    nextParameter: firstParameter + columns.length,
    parameters: (rows) =>
      columns.map(([column, type]) => {
        const json = type === 'json' || type === 'jsonb';
        return arrayLiteral(rows.length, (i) => {
          const value: unknown = (rows[i] as Row)[column];
          return json && value !== null && value !== undefined ? quoted(JSON.stringify(value)) : element(value, column);
        });
      }),
  };
}

/**
 * A list as one array parameter of a fixed statement, written as a batch's columns are: in the statement, in a
 * sub-select for the same reason (`unnest((select $1::uuid[])) as i (id)`).
 */
export function arrayParameter(values: readonly unknown[]): string {
  return arrayLiteral(values.length, (i) => element(values[i], 'list'));
}

/** `{e0,e1,…}` of `count` elements. */
function arrayLiteral(count: number, elementAt: (i: number) => string): string {
  let literal = '{';
  for (let i = 0; i < count; i++) {
    if (i > 0) literal += ',';
    literal += elementAt(i);
  }
  return `${literal}}`;
}

const NEEDS_ESCAPE = /["\\]/;
const ESCAPES = /["\\]/g;

/** A string as an element of an array literal: always quoted (so `NULL`, braces, commas and spaces stay text). */
function quoted(text: string): string {
  return NEEDS_ESCAPE.test(text) ? `"${text.replace(ESCAPES, '\\$&')}"` : `"${text}"`;
}

function element(value: unknown, column: string): string {
  if (value === null || value === undefined) return 'NULL';
  if (typeof value === 'string') return quoted(value);
  if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  if (typeof value === 'boolean') return value ? 't' : 'f';
  if (value instanceof Date) return `"${value.toISOString()}"`;
  throw new TypeError(`a batch's ${column} must be a string, number, boolean or date, or a json column`);
}
